"""Card funding in the portal with Stripe configured (the local emulator): card details go to
Stripe through Elements, the form posts only the PaymentMethod id, and a card that needs
3-D Secure gets the page that hands its client secret to Stripe.js."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from nexus.settings import Settings
from tests.api.test_portal import csrf_from, sign_in
from tests.payments import support as ps
from tests.support import campaign_body, login, make_tenant

PUBLISHABLE = "pk_test_portal"


@pytest.fixture
def settings(settings: Settings, stripe_emulator: str) -> Settings:
    payments = ps.payment_settings(stripe_emulator).model_copy(
        update={"stripe_publishable_key": PUBLISHABLE}
    )
    return settings.model_copy(update={"payments": payments})


async def test_cards_go_through_elements_and_3d_secure_is_confirmed_in_the_browser(
    http: httpx.AsyncClient, engine: Engine, stripe_emulator: str
) -> None:
    tenant = make_tenant(engine)
    headers = await login(http, tenant)
    created = await http.post("/campaigns", json=campaign_body(tenant.brand_id), headers=headers)
    cid = created.json()["id"]
    await sign_in(http, tenant)
    page = await http.get(f"/portal/campaigns/{cid}")
    assert f'id="card-element" class="card-element" data-stripe-key="{PUBLISHABLE}"' in page.text
    assert '<script src="https://js.stripe.com/v3/" defer></script>' in page.text
    assert 'type="hidden" id="payment_method" name="payment_method"' in page.text

    method = ps.card(stripe_emulator, ps.THREE_D_SECURE)
    answer = await http.post(
        f"/portal/campaigns/{cid}/fundings",
        data={"csrf_token": csrf_from(page), "method": "card", "payment_method": method},
    )
    assert answer.status_code == 200
    [funding] = (await http.get(f"/campaigns/{cid}/fundings", headers=headers)).json()
    assert funding["status"] == "requires_action"
    assert 'id="card-confirm"' in answer.text
    assert 'data-client-secret="pi_' in answer.text
    assert f'data-done="/portal/campaigns/{cid}"' in answer.text
