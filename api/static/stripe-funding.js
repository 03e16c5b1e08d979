// Card funding through Stripe Elements. Stripe.js must be loaded from js.stripe.com (Stripe
// does not allow serving it from elsewhere), so it is the one script the portal does not
// serve itself, and only on the funding page when Stripe is configured. Card details go from
// the browser to Stripe; the form posts only the resulting PaymentMethod id.
(function () {
  "use strict";

  function shown(element, message) {
    element.textContent = message;
    element.hidden = !message;
  }

  function mountCard(container) {
    var stripe = window.Stripe(container.dataset.stripeKey);
    var card = stripe.elements().create("card");
    card.mount(container);
    var form = container.closest("form");
    var error = document.getElementById("card-error");
    var chosen = form.querySelector("#payment_method");
    form.addEventListener("submit", function (event) {
      var method = form.querySelector("input[name=method]:checked");
      if (!method || method.value !== "card" || chosen.value) { return; }
      event.preventDefault();
      stripe.createPaymentMethod({ type: "card", card: card }).then(function (result) {
        if (result.error) { shown(error, result.error.message); return; }
        chosen.value = result.paymentMethod.id;
        form.submit();
      });
    });
  }

  function confirmPayment(box) {
    var stripe = window.Stripe(box.dataset.stripeKey);
    stripe.confirmCardPayment(box.dataset.clientSecret).then(function (result) {
      if (result.error) {
        shown(document.getElementById("card-confirm-error"), result.error.message);
        return;
      }
      // Stripe's webhook moves the money into escrow; the campaign page shows it once it has.
      window.location.assign(box.dataset.done);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Stripe) { return; }
    var container = document.getElementById("card-element");
    if (container) { mountCard(container); }
    var box = document.getElementById("card-confirm");
    if (box) { confirmPayment(box); }
  });
})();
