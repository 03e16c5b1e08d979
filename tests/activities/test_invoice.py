"""The bank-transfer invoice says its amounts as every page does: with the currency's symbol."""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pytest

from activities.money.invoice import Invoice, render_invoice
from integrations.payments.manual import PlatformBank

BANK = PlatformBank(
    beneficiary="NEXUS Platform Ltd", bank_name="Barclays", address="",
    iban="GB33BUKB20201555555555", bic="BUKBGB22", us_routing_number=None,
    us_account_number=None, example=False,
)  # fmt: skip


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    ("currency", "budget", "total"),
    [("EUR", "€5,000.00", "€5,500.00"), ("GBP", "£5,000.00", "£5,500.00"),
     ("CHF", "5,000.00 CHF", "5,500.00 CHF")],
)  # fmt: skip
def test_an_invoice_in_any_currency_prints_its_amounts_as_money(
    currency: str, budget: str, total: str
) -> None:
    invoice = Invoice(
        number="INV-000042", issued_on=date(2027, 3, 1), issuer="NEXUS Platform Ltd",
        issuer_address="", brand="Glow", campaign="Spring glow", currency=currency,
        lines=[("Campaign budget", 500_000), ("Platform fee", 50_000)],
        reference="NX-7K3F-9Q2M", platform=BANK,
    )  # fmt: skip
    text = text_of(render_invoice(invoice))
    assert budget in text and total in text
    assert f"Pay {total} by bank transfer" in text
    assert "1 March 2027" in text
