"""The invoice of a funding paid by bank transfer: what the brand pays (the campaign's budget,
or a license fee, plus the platform fee), into which account, quoting which reference.

A PDF made with fpdf2's core fonts (Windows-1252, so amounts print with their currency's
symbol: "€5,500.00"; other characters print as '?', never an error).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from domain import words
from integrations.payments.manual import PlatformBank


@dataclass(frozen=True)
class Invoice:
    number: str  # "INV-000042"
    issued_on: date
    issuer: str
    issuer_address: str
    brand: str
    campaign: str
    currency: str
    # (what, amount in minor units), the platform fee last.
    lines: list[tuple[str, int]]
    reference: str
    platform: PlatformBank
    paid_on: date | None = None

    @property
    def total_minor(self) -> int:
        return sum(amount for _, amount in self.lines)


def invoice_number(number: int) -> str:
    return f"INV-{number:06d}"


def render_invoice(invoice: Invoice) -> bytes:
    pdf = FPDF(format="A4")
    # Windows-1252 for the core fonts: the euro and pound signs of amounts print.
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_author(_text(invoice.issuer))
    pdf.set_creator("NEXUS")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    if invoice.platform.example:
        pdf.set_fill_color(255, 236, 179)
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(
            width, 6,
            "EXAMPLE bank details of a development installation: do not pay this invoice.",
            border=1, fill=True, align="C", new_x="LMARGIN", new_y="NEXT",
        )  # fmt: skip
        pdf.ln(3)

    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(width / 2, 10, "Invoice")
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(width / 2, 10, _text(invoice.issuer), align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice.issuer_address:
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(
            width, 5, _text(invoice.issuer_address), align="R", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(4)

    facts = [
        ("Invoice number", invoice.number),
        ("Invoice date", words.day(invoice.issued_on)),
        ("Billed to", invoice.brand),
        ("Campaign", invoice.campaign),
        ("Payment reference", invoice.reference),
        ("Status", f"Paid on {invoice.paid_on:%d %B %Y}" if invoice.paid_on else "Due on receipt"),
    ]
    for label, value in facts:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 7, label)
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(width - 45, 7, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font("Helvetica", "B", 10)
    pdf.set_fill_color(235, 238, 245)
    pdf.cell(width - 50, 8, "Description", border="B", fill=True)
    pdf.cell(50, 8, "Amount", border="B", fill=True, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for what, amount in invoice.lines:
        pdf.cell(width - 50, 8, _text(what))
        pdf.cell(
            50, 8, _text(words.money(amount, invoice.currency)), align="R", new_x="LMARGIN",
            new_y="NEXT",
        )  # fmt: skip
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(width - 50, 9, "Total due", border="T")
    pdf.cell(
        50, 9, _text(words.money(invoice.total_minor, invoice.currency)), border="T", align="R",
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    pdf.ln(6)

    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(width, 8, "How to pay", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(
        width, 5,
        _text(
            f"Pay {words.money(invoice.total_minor, invoice.currency)} by bank transfer to the "
            "account below, quoting the payment reference exactly: it is how your payment is "
            "matched to this invoice. The budget is held in escrow and paid to creators only "
            "for approved work; what the campaign does not spend is refunded with its share of "
            "the fee."
        ),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    pdf.ln(2)
    for label, value in [
        *invoice.platform.lines(invoice.currency),
        ("Payment reference", invoice.reference),
    ]:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(65, 7, _text(label))
        # Numbers a person types in Courier, where 0 and O, 1 and l differ.
        mono = not label.startswith(("Beneficiary", "Bank"))
        pdf.set_font("Courier" if mono else "Helvetica", "B" if mono else "", size=10)
        pdf.multi_cell(width - 65, 7, _text(value), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _text(text: str) -> str:
    # The core PDF fonts cover Windows-1252; anything else is shown as '?', never an error.
    return text.encode("windows-1252", "replace").decode("windows-1252")
