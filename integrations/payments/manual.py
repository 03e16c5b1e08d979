"""The manual provider: brands pay by bank transfer (ops confirm it arrived); creators and
refunds are paid from a batch file ops export for their bank or PayPal mass payout, and
confirm once settled. Every outgoing transfer is a row keyed by its idempotency key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine

from domain import bank, words
from integrations.payments import (
    BadSignature,
    Charge,
    ChargeRequest,
    Payment,
    PayoutAccount,
    Refund,
    RefundRequest,
    Refused,
    Transfer,
    TransferRequest,
    WebhookEvent,
)
from models import money
from models.db import session_scope
from nexus.settings import PaymentSettings

PREFIX = "manual:"


@dataclass(frozen=True)
class PlatformBank:
    """The platform's account that brands pay bank transfers into (from settings)."""

    beneficiary: str
    bank_name: str
    address: str
    iban: str
    bic: str
    us_routing_number: str | None
    us_account_number: str | None
    # The development defaults: shown, but labelled as examples nobody may pay into.
    example: bool

    @classmethod
    def from_settings(cls, settings: PaymentSettings) -> PlatformBank:
        return cls(
            beneficiary=settings.bank_beneficiary,
            bank_name=settings.bank_name,
            address=settings.bank_address,
            iban=bank.compact(settings.bank_iban),
            bic=settings.bank_bic,
            us_routing_number=settings.bank_us_routing_number,
            us_account_number=settings.bank_us_account_number,
            example=settings.example_bank,
        )

    def lines(self, currency: str) -> list[tuple[str, str]]:
        """(label, value) of what a brand's bank asks for, US details for USD when set."""
        rows = [("Beneficiary", self.beneficiary), ("Bank", self.bank_name)]
        if self.address:
            rows.append(("Bank address", self.address))
        rows += [("IBAN", bank.format_iban(self.iban)), ("BIC / SWIFT", self.bic)]
        if currency == "USD" and self.us_routing_number and self.us_account_number:
            rows += [
                ("ACH / wire routing number (US)", self.us_routing_number),
                ("Account number (US)", self.us_account_number),
            ]
        return rows


def reference_of(provider_ref: str | None) -> str | None:
    """The payment reference a manual funding's brand quotes, from its provider reference."""
    if provider_ref is None or not provider_ref.startswith(PREFIX):
        return None
    return provider_ref.removeprefix(PREFIX)


def transfer_instructions(
    platform: PlatformBank, amount_minor: int, currency: str, reference: str
) -> str:
    """What the brand's bank transfer must carry, in plain text."""
    lines = [
        f"Pay {words.money(amount_minor, currency)} by bank transfer to:",
        *(f"  {label}: {value}" for label, value in platform.lines(currency)),
        f"Quote the payment reference {reference} exactly: it is how the payment is matched "
        "to this invoice. Ops confirm it on arrival.",
    ]
    if platform.example:
        lines.insert(0, "EXAMPLE bank details of a development installation: do not pay.")
    return "\n".join(lines)


class ManualPayments:
    name = "manual"

    def __init__(self, engine: Engine, settings: PaymentSettings | None = None) -> None:
        self._engine = engine
        self.platform = PlatformBank.from_settings(settings or PaymentSettings())

    def _reference(self, request: ChargeRequest) -> str:
        """The funding's payment reference: derived from its request (the same request gets the
        same one), the next derivation where another funding holds it already."""
        owner = request.metadata.get("funding_id")
        with session_scope(self._engine) as session:
            for attempt in range(100):
                reference = bank.payment_reference(f"{request.key}:{attempt}".encode())
                holder = money.funding_by_ref(session, PREFIX + reference)
                if holder is None or str(holder.id) == owner:
                    return reference
        raise Refused("no free payment reference")  # 100 collisions in 34 billion: never

    def charge(self, request: ChargeRequest) -> Charge:
        reference = self._reference(request)
        return Charge(
            status="awaiting_transfer",
            provider_ref=PREFIX + reference,
            instructions=transfer_instructions(
                self.platform, request.amount_minor, request.currency, reference
            ),
        )

    def payment(self, provider_ref: str) -> Payment:
        # Nobody but ops can tell that a bank transfer arrived: they confirm it.
        raise Refused("a bank transfer is confirmed by ops, not read from a provider")

    def open_account(
        self, key: str, creator_id: uuid.UUID, email: str, country: str
    ) -> PayoutAccount:
        # Payouts go out once the creator has given their bank details (the earnings page).
        return PayoutAccount(PREFIX + str(creator_id), payouts_enabled=True)

    def onboarding_link(self, account_ref: str) -> str | None:
        return None

    def account(self, account_ref: str) -> PayoutAccount:
        return PayoutAccount(account_ref, payouts_enabled=True)

    def _queue(self, row: money.ManualTransfer) -> str:
        with session_scope(self._engine) as session:
            return money.add_manual_transfer(session, row).status

    def transfer(self, request: TransferRequest) -> Transfer:
        """Queue the payout for the next bank batch, to the creator's bank details as they are
        now (sealed; ops open them when they export the batch)."""
        creator_id = _creator_of(request.account_ref)
        payee, sealed = "no bank details on file", None
        if creator_id is not None:
            with session_scope(self._engine) as session:
                details = money.bank_details(session, creator_id)
                if details is not None:
                    payee, sealed = money.masked(details), details.sealed
        status = self._queue(
            money.ManualTransfer(
                key=request.key, kind="payout", payee=payee, amount_minor=request.amount_minor,
                currency=request.currency, reference=request.reference, creator_id=creator_id,
                payee_sealed=sealed,
            )
        )  # fmt: skip
        return Transfer("paid" if status == "settled" else "pending", PREFIX + request.key)

    def transfer_status(self, transfer_ref: str) -> Transfer:
        """As ops recorded it: settled once they confirmed the bank batch carrying it."""
        with session_scope(self._engine) as session:
            row = money.manual_transfer(session, transfer_ref.removeprefix(PREFIX))
            if row is None or row.kind != "payout":
                raise Refused(f"no transfer {transfer_ref}")
            return Transfer("paid" if row.status == "settled" else "pending", transfer_ref)

    def refund(self, request: RefundRequest) -> Refund:
        status = self._queue(
            money.ManualTransfer(
                key=request.key, kind="refund", payee=request.payee,
                amount_minor=request.amount_minor, currency=request.currency,
                reference=request.reference,
            )
        )  # fmt: skip
        return Refund("refunded" if status == "settled" else "pending", PREFIX + request.key)

    def parse_webhook(self, payload: bytes, signature: str | None) -> WebhookEvent:
        raise BadSignature("the manual provider takes no webhooks")


def _creator_of(account_ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(account_ref.removeprefix(PREFIX))
    except ValueError:
        return None
