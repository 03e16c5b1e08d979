// Portal behaviour that needs a script: uploads with progress (a delivery's files and the
// conversation's attachments), and findings that seek the review player. Delegated from the
// document so content swapped in by htmx works too.
(function () {
  "use strict";

  function send(method, url, body, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (onProgress) {
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) { onProgress(event.loaded); }
        });
      }
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) { resolve(xhr); return; }
        var detail = "the upload failed (" + xhr.status + ")";
        try { detail = JSON.parse(xhr.responseText).detail || detail; } catch (e) { /* not JSON */ }
        reject(new Error(detail));
      };
      xhr.onerror = function () { reject(new Error("the connection was lost; try again")); };
      xhr.send(body);
    });
  }

  async function upload(form) {
    var file = form.querySelector("input[type=file]").files[0];
    var csrf = form.querySelector("input[name=csrf_token]").value;
    var bar = form.querySelector("progress");
    var status = form.querySelector(".upload-status");
    var button = form.querySelector("button[type=submit]");
    form.querySelector(".progress").hidden = false;
    button.disabled = true;
    function shown(done) {
      var percent = Math.round((100 * done) / file.size);
      bar.value = percent;
      status.textContent = percent + " %";
    }
    try {
      var ticketResponse = await send("POST", "/portal/uploads", JSON.stringify({
        filename: file.name, content_type: file.type || "video/mp4", size_bytes: file.size
      }), {"Content-Type": "application/json", "X-CSRF-Token": csrf});
      var ticket = JSON.parse(ticketResponse.responseText);
      // Same-origin targets (the portal's) need the CSRF header; presigned ones must not get it.
      var headers = ticket.direct ? {} : {"X-CSRF-Token": csrf};
      // The ticket's own headers (the declared Content-Type) are signed into presigned URLs.
      Object.keys(ticket.headers).forEach(function (name) { headers[name] = ticket.headers[name]; });
      if (ticket.upload_id) {
        var parts = [];
        for (var i = 0; i < ticket.urls.length; i++) {
          var start = i * ticket.part_bytes;
          var sent = await send("PUT", ticket.urls[i], file.slice(start, start + ticket.part_bytes),
            headers, function (loaded) { shown(start + loaded); });
          parts.push({number: i + 1, etag: sent.getResponseHeader("ETag")});
        }
        await send("POST", "/portal/uploads/complete", JSON.stringify({
          key: ticket.key, upload_id: ticket.upload_id, parts: parts
        }), {"Content-Type": "application/json", "X-CSRF-Token": csrf});
      } else {
        await send("PUT", ticket.urls[0], file, headers, shown);
      }
      shown(file.size);
      status.textContent = "Uploaded; submitting…";
      form.querySelector("input[name=media_key]").value = ticket.key;
      form.submit();
    } catch (error) {
      status.textContent = "Upload failed: " + error.message;
      button.disabled = false;
    }
  }

  // A delivery's conversation: a message with a file uploads the file first (a ticket for
  // exactly its bytes, then the bytes, with progress), then sends the form with the upload's
  // key. A message without a file is a plain form post.
  async function attachAndSend(form, file) {
    var csrf = form.querySelector("input[name=csrf_token]").value;
    var bar = form.querySelector("progress");
    var status = form.querySelector(".upload-status");
    var button = form.querySelector("button[type=submit]");
    form.querySelector(".progress").hidden = false;
    button.disabled = true;
    function shown(done) {
      var percent = Math.round((100 * done) / file.size);
      bar.value = percent;
      status.textContent = percent + " %";
    }
    try {
      var url = "/portal/deliveries/" + form.dataset.conversation + "/attachments";
      var answer = await send("POST", url, JSON.stringify({
        filename: file.name, content_type: file.type || "application/octet-stream",
        size_bytes: file.size
      }), {"Content-Type": "application/json", "X-CSRF-Token": csrf});
      var ticket = JSON.parse(answer.responseText);
      // Same-origin targets (the portal's) need the CSRF header; presigned ones must not get it.
      var headers = ticket.direct ? {} : {"X-CSRF-Token": csrf};
      Object.keys(ticket.headers).forEach(function (name) { headers[name] = ticket.headers[name]; });
      await send("PUT", ticket.urls[0], file, headers, shown);
      shown(file.size);
      status.textContent = "Uploaded; sending…";
      form.querySelector("input[name=attachment_key]").value = ticket.key;
      form.submit();
    } catch (error) {
      status.textContent = "Upload failed: " + error.message;
      button.disabled = false;
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-upload]")) { return; }
    event.preventDefault();
    if (!form.querySelector("input[type=file]").files.length) {
      form.querySelector("input[type=file]").focus();
      return;
    }
    upload(form);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-conversation]")) { return; }
    var input = form.querySelector("input[type=file]");
    if (!input || !input.files.length) { return; }
    event.preventDefault();
    attachAndSend(form, input.files[0]);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-seek]");
    var player = document.getElementById("player");
    if (!button || !player) { return; }
    player.currentTime = Number(button.dataset.seek);
    player.focus();
    player.play().catch(function () { /* autoplay may be refused; the position is set */ });
  });
})();
