"""Licenses (usage rights of approved assets), where assets are published, and the rights
ledger: append-only, hash-chained entries with signed Merkle checkpoints.

The ledger's arithmetic lives in domain/rights_ledger.py; this module stores it. Appends
take one transaction-scoped advisory lock, so entries get gap-free sequence numbers and each
links to the one before it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, DateTime, LargeBinary, String, func, text
from sqlalchemy import select as select_columns
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DataError
from sqlmodel import Field, Session, SQLModel, col, select

from domain import rights_ledger as ledger
from domain.enums import DeliveryStage, LicenseStatus, PublicationStatus
from domain.license_terms import (
    Exclusivity,
    Grant,
    Period,
    Use,
    normalize_category,
    refusal,
)
from models import audit
from models.base import aware_datetime_field, created_at_field, id_field, str_enum, utcnow
from models.brands import Brand
from models.campaigns import Campaign, Deliverable
from models.creators import CreatorProfile
from models.deliveries import Delivery, Submission
from models.workspaces import Workspace
from workflows.contracts.license import GrantOutcome, LicenseEvent

# One lock for every append: sequence numbers without gaps, each entry linked to the last.
_LEDGER_LOCK = 0x6E657875  # "nexu"
NOT_IN_FORCE = frozenset({LicenseStatus.EXPIRED, LicenseStatus.TERMINATED})


class License(SQLModel, table=True):
    __tablename__ = "licenses"

    id: uuid.UUID = Field(primary_key=True)
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)  # the licensee's
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    creator_id: uuid.UUID = Field(foreign_key="creator_profiles.id", index=True)
    campaign_id: uuid.UUID = Field(foreign_key="campaigns.id")
    delivery_id: uuid.UUID = Field(foreign_key="deliveries.id", index=True)
    asset_id: uuid.UUID = Field(index=True)
    asset_key: str | None = Field(default=None, max_length=1024)
    status: LicenseStatus = Field(sa_type=str_enum(LicenseStatus), index=True)
    version: int = 1
    channels: list[str] = Field(sa_type=ARRAY(String))
    platforms: list[str] = Field(sa_type=ARRAY(String))
    territories: list[str] = Field(sa_type=ARRAY(String))
    starts_at: datetime = Field(sa_type=DateTime(timezone=True))
    ends_at: datetime | None = aware_datetime_field()
    exclusivity_category: str | None = Field(default=None, max_length=100)
    exclusivity_ends_at: datetime | None = aware_datetime_field()
    terms: dict[str, Any] = Field(sa_type=JSONB)  # the full LicenseTerms document
    fee_minor: int = Field(default=0, sa_type=BigInteger)
    currency: str = Field(max_length=3)
    end_reason: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class Publication(SQLModel, table=True):
    """Where an asset is in use (a gallery, an ad); withdrawn when its rights end."""

    __tablename__ = "asset_publications"

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True)
    asset_id: uuid.UUID = Field(index=True)
    license_id: uuid.UUID = Field(foreign_key="licenses.id", index=True)
    channel: str = Field(max_length=32)
    platform: str | None = Field(default=None, max_length=50)
    territory: str = Field(max_length=2)
    target: str = Field(max_length=500)  # the integration's own reference (ad id, gallery slot)
    status: PublicationStatus = Field(sa_type=str_enum(PublicationStatus))
    withdrawn_at: datetime | None = aware_datetime_field()
    withdraw_reason: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_at_field()


class LedgerEntry(SQLModel, table=True):
    """One rights-ledger entry. Never updated or deleted; `body` is exactly what was hashed."""

    __tablename__ = "rights_ledger"

    seq: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    event_key: str = Field(max_length=300, unique=True)
    license_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=32)
    recorded_at: datetime = Field(sa_type=DateTime(timezone=True))
    body: bytes = Field(sa_type=LargeBinary)
    prev_hash: bytes = Field(sa_type=LargeBinary)
    hash: bytes = Field(sa_type=LargeBinary)


class LedgerCheckpoint(SQLModel, table=True):
    """A signed Merkle root over entries from_seq..to_seq, chained to the checkpoint before."""

    __tablename__ = "rights_ledger_checkpoints"

    to_seq: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    from_seq: int = Field(sa_type=BigInteger)
    body: bytes = Field(sa_type=LargeBinary)  # the signed canonical JSON statement
    hash: bytes = Field(sa_type=LargeBinary)
    signature: bytes = Field(sa_type=LargeBinary)
    key_id: str = Field(max_length=16)
    created_at: datetime = created_at_field()


# -- writing: one event, one transaction ----------------------------------------------------


def record_event(
    session: Session, event: LicenseEvent, signer: ledger.Signer, checkpoint_every: int
) -> GrantOutcome:
    """Append the event to the ledger and leave the license row as the event says.

    Idempotent: an event already in the ledger (same key) changes nothing and answers as
    before. A grant whose exclusivity collides with another brand's license in force is
    granted without it, and the answer names the colliding license."""
    session.exec(select(func.pg_advisory_xact_lock(_LEDGER_LOCK))).one()
    done = session.exec(
        select(LedgerEntry.seq).where(LedgerEntry.event_key == event.event_key)
    ).first()
    if done is not None:
        return GrantOutcome(seq=done)
    conflict: License | None = None
    snapshot = event.license
    exclusive = snapshot.terms.exclusive()
    if event.kind == "grant" and exclusive is not None:
        conflict = exclusivity_conflict(
            session, snapshot.creator_id, snapshot.brand_id, exclusive, snapshot.license_id
        )
        if conflict is not None:
            snapshot = snapshot.model_copy(
                update={"terms": snapshot.terms.model_copy(update={"exclusivity": None})}
            )
    detail = dict(event.detail)
    if conflict is not None:
        detail["exclusivity_dropped"] = {
            "requested": event.license.terms.exclusivity.model_dump(mode="json")
            if event.license.terms.exclusivity
            else None,
            "conflicts_with": str(conflict.id),
        }
    _upsert_license(session, snapshot)
    entry = _append(
        session,
        event_key=event.event_key,
        license_id=snapshot.license_id,
        kind=event.kind,
        at=event.at,
        data={"license": snapshot.model_dump(mode="json"), "detail": detail},
    )
    audit.record(
        session, f"license.{event.kind}"[:100], f"License {event.kind.replace('_', ' ')}",
        workspace_id=snapshot.workspace_id,
        target=audit.Target("license", str(snapshot.license_id)),
        details={"status": snapshot.status, "version": snapshot.version, "seq": entry.seq},
    )  # fmt: skip
    if snapshot.status != LicenseStatus.ACTIVE:
        withdraw_publications(session, snapshot.license_id, f"license {snapshot.status.value}")
    if entry.seq % checkpoint_every == 0:
        make_checkpoint(session, signer)
    return GrantOutcome(seq=entry.seq, exclusivity_conflict=conflict.id if conflict else None)


def _upsert_license(session: Session, snapshot: Any) -> None:
    terms = snapshot.terms
    values: dict[str, Any] = {
        "workspace_id": snapshot.workspace_id,
        "brand_id": snapshot.brand_id,
        "creator_id": snapshot.creator_id,
        "campaign_id": snapshot.campaign_id,
        "delivery_id": snapshot.delivery_id,
        "asset_id": snapshot.asset_id,
        "asset_key": snapshot.asset_key,
        "status": snapshot.status,
        "version": snapshot.version,
        "channels": list(terms.channels),
        "platforms": list(terms.platforms),
        "territories": list(terms.territories),
        "starts_at": terms.starts_at,
        "ends_at": terms.ends_at,
        "exclusivity_category": normalize_category(terms.exclusivity.category)
        if terms.exclusivity
        else None,
        "exclusivity_ends_at": terms.exclusivity.ends_at if terms.exclusivity else None,
        "terms": terms.model_dump(mode="json"),
        "fee_minor": terms.fee_minor,
        "currency": terms.currency,
        "end_reason": snapshot.end_reason,
    }
    row = session.get(License, snapshot.license_id)
    if row is None:
        session.add(License(id=snapshot.license_id, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        session.add(row)
    session.flush()


def _append(
    session: Session,
    *,
    event_key: str,
    license_id: uuid.UUID,
    kind: str,
    at: datetime,
    data: dict[str, Any],
) -> LedgerEntry:
    head = session.exec(
        select(LedgerEntry.seq, LedgerEntry.hash).order_by(col(LedgerEntry.seq).desc()).limit(1)
    ).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, ledger.GENESIS)
    body = ledger.entry_body(seq, str(license_id), kind, at.isoformat(), data, event_key)
    entry = LedgerEntry(
        seq=seq,
        event_key=event_key,
        license_id=license_id,
        kind=kind,
        recorded_at=at,
        body=body,
        prev_hash=prev,
        hash=ledger.entry_hash(prev, body),
    )
    session.add(entry)
    session.flush()
    return entry


def make_checkpoint(session: Session, signer: ledger.Signer) -> LedgerCheckpoint | None:
    """Checkpoint the entries after the last checkpoint (None when there are none)."""
    last = session.exec(
        select(LedgerCheckpoint).order_by(col(LedgerCheckpoint.to_seq).desc()).limit(1)
    ).first()
    from_seq = last.to_seq + 1 if last else 1
    hashes = list(
        session.exec(
            select(LedgerEntry.hash)
            .where(col(LedgerEntry.seq) >= from_seq)
            .order_by(col(LedgerEntry.seq))
        )
    )
    if not hashes:
        return None
    to_seq = from_seq + len(hashes) - 1
    body = ledger.checkpoint_body(
        from_seq=from_seq,
        to_seq=to_seq,
        root=ledger.merkle_root([ledger.leaf_hash(h) for h in hashes]),
        head_hash=hashes[-1],
        prev_checkpoint=last.hash if last else ledger.GENESIS,
        created_at=utcnow().isoformat(),
        key=signer.key_id,
    )
    checkpoint = LedgerCheckpoint(
        to_seq=to_seq,
        from_seq=from_seq,
        body=body,
        hash=ledger.checkpoint_hash(body),
        signature=signer.sign(body),
        key_id=signer.key_id,
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def withdraw_publications(session: Session, license_id: uuid.UUID, reason: str) -> int:
    rows = session.exec(
        select(Publication).where(
            Publication.license_id == license_id, Publication.status == PublicationStatus.LIVE
        )
    ).all()
    now = utcnow()
    for row in rows:
        row.status, row.withdrawn_at, row.withdraw_reason = PublicationStatus.WITHDRAWN, now, reason
        session.add(row)
    return len(rows)


# -- reading --------------------------------------------------------------------------------


def get_license(session: Session, license_id: uuid.UUID) -> License | None:
    return session.get(License, license_id)


@dataclass(frozen=True)
class AgreedFee:
    """A fee the brand agreed to when a change with `fee_minor` was accepted; numbered in
    the order they were agreed, as the LicenseWorkflow numbers its fee hand-offs."""

    number: int
    amount_minor: int
    currency: str
    reason: str  # renewal, change


def agreed_fees(session: Session, license_id: uuid.UUID) -> list[AgreedFee]:
    """Read from the rights ledger, which records every accepted change with its fee."""
    fees: list[AgreedFee] = []
    for entry in license_entries(session, license_id):
        if entry.kind not in ("renewal", "change"):
            continue
        data = json.loads(entry.body)["data"]
        amount = int(data["detail"].get("fee_minor", 0))
        if amount > 0:
            currency = str(data["license"]["terms"]["currency"])
            fees.append(AgreedFee(len(fees) + 1, amount, currency, entry.kind))
    return fees


def list_licenses(
    session: Session, filters: dict[str, Any], limit: int, offset: int
) -> list[License]:
    query = select(License)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(License, name) == value)
    query = query.order_by(col(License.created_at).desc()).limit(limit).offset(offset)
    return list(session.exec(query))


@dataclass(frozen=True)
class LicenseNames:
    """What people call the parties and the asset of a license (the ledger keeps only IDs)."""

    brand_name: str
    workspace_name: str
    creator_name: str
    creator_handle: str
    campaign_title: str
    deliverable_format: str | None
    price_minor: int  # the delivery's agreed price
    currency: str


def license_names(
    session: Session, license_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, LicenseNames]:
    if not license_ids:
        return {}
    rows = session.execute(
        select_columns(
            col(License.id), col(Brand.name), col(Workspace.name),
            col(CreatorProfile.display_name), col(CreatorProfile.handle), col(Campaign.title),
            col(Deliverable.format), col(Delivery.price_minor), col(Delivery.currency),
        )
        .join(Brand, col(Brand.id) == col(License.brand_id))
        .join(Workspace, col(Workspace.id) == col(License.workspace_id))
        .join(CreatorProfile, col(CreatorProfile.id) == col(License.creator_id))
        .join(Campaign, col(Campaign.id) == col(License.campaign_id))
        .join(Delivery, col(Delivery.id) == col(License.delivery_id))
        .outerjoin(Deliverable, col(Deliverable.id) == col(Delivery.deliverable_id))
        .where(col(License.id).in_(list(license_ids)))
    ).all()  # fmt: skip
    found = {}
    for license_id, brand, workspace, creator, handle, title, form, price, currency in rows:
        found[license_id] = LicenseNames(
            brand_name=brand, workspace_name=workspace, creator_name=creator,
            creator_handle=handle, campaign_title=title,
            deliverable_format=str(getattr(form, "value", form)) if form else None,
            price_minor=price, currency=currency,
        )  # fmt: skip
    return found


@dataclass(frozen=True)
class LicensedFiles:
    """The files a license is about: the approved draft it was granted for and, once the
    delivery is complete, the final files."""

    approved: Submission | None
    final: Submission | None
    delivered: bool


def licensed_files(session: Session, row: License) -> LicensedFiles:
    approved = session.get(Submission, row.asset_id)
    if approved is not None and approved.delivery_id != row.delivery_id:
        approved = None
    final = session.exec(
        select(Submission)
        .where(Submission.delivery_id == row.delivery_id, Submission.kind == "final")
        .order_by(col(Submission.number).desc())
        .limit(1)
    ).first()
    stage = session.exec(select(Delivery.stage).where(Delivery.id == row.delivery_id)).first()
    return LicensedFiles(approved, final, stage == DeliveryStage.COMPLETED)


def exclusivity_conflict(
    session: Session,
    creator_id: uuid.UUID,
    brand_id: uuid.UUID,
    exclusive: Exclusivity,
    exclude: uuid.UUID | None = None,
) -> License | None:
    """Another brand's license in force that holds the creator exclusively in the same
    category over an overlapping period."""
    query = select(License).where(
        License.creator_id == creator_id,
        License.brand_id != brand_id,
        License.exclusivity_category == normalize_category(exclusive.category),
        col(License.status).not_in(NOT_IN_FORCE),
        col(License.exclusivity_ends_at) > exclusive.period.starts_at,
    )
    if exclude is not None:
        query = query.where(License.id != exclude)
    for row in session.exec(query):
        assert row.exclusivity_ends_at is not None
        theirs = Exclusivity(
            row.exclusivity_category or "", Period(row.starts_at, row.exclusivity_ends_at)
        )
        if theirs.collides_with(exclusive):
            return row
    return None


@dataclass(frozen=True)
class UsageAnswer:
    allowed: bool
    reason: str
    license_id: uuid.UUID | None = None
    ends_at: datetime | None = None


def check_usage(
    session: Session,
    asset_id: uuid.UUID,
    workspace_id: uuid.UUID,
    brand_id: uuid.UUID | None,
    use: Use,
) -> UsageAnswer | None:
    """May the workspace (and brand, when given) use the asset as `use` says? None when the
    workspace holds no license for the asset at all."""
    rows = session.exec(
        select(License).where(License.asset_id == asset_id, License.workspace_id == workspace_id)
    ).all()
    if not rows:
        return None
    candidates = [r for r in rows if brand_id is None or r.brand_id == brand_id]
    if not candidates:
        return UsageAnswer(False, "this brand holds no license for the asset")
    best: UsageAnswer | None = None
    for row in sorted(candidates, key=_refusal_rank):
        if row.status != LicenseStatus.ACTIVE:
            answer = UsageAnswer(False, _not_in_force(row), row.id, row.ends_at)
        else:
            why = refusal(_grant_of(row), use)
            if why is None:
                return UsageAnswer(True, "licensed", row.id, row.ends_at)
            answer = UsageAnswer(False, why, row.id, row.ends_at)
        best = best or answer
    assert best is not None
    return best


def _refusal_rank(row: License) -> tuple[int, float]:
    # The most telling refusal: an active license's terms first, then a suspended one,
    # then the most recent that ended.
    order = {LicenseStatus.ACTIVE: 0, LicenseStatus.SUSPENDED: 1}
    return order.get(row.status, 2), -row.starts_at.timestamp()


def _not_in_force(row: License) -> str:
    if row.status == LicenseStatus.SUSPENDED:
        return "the license is suspended while a dispute is open"
    when = f" ({row.end_reason})" if row.end_reason else ""
    return f"the license is {row.status.value}{when}"


def _grant_of(row: License) -> Grant:
    return Grant(
        channels=frozenset(row.channels),
        platforms=frozenset(row.platforms),
        territories=frozenset(row.territories),
        period=Period(row.starts_at, row.ends_at),
    )


def asset_in_workspace(session: Session, asset_id: uuid.UUID, workspace_id: uuid.UUID) -> bool:
    """Whether `asset_id` is a submission of one of the workspace's deliveries."""
    found = session.execute(
        text(
            "SELECT 1 FROM submissions s JOIN deliveries d ON d.id = s.delivery_id "
            "WHERE s.id = :asset AND d.workspace_id = :ws"
        ),
        {"asset": asset_id, "ws": workspace_id},
    ).first()
    return found is not None


def add_publication(session: Session, row: Publication) -> Publication:
    session.add(row)
    session.flush()
    return row


def list_publications(
    session: Session, asset_id: uuid.UUID, workspace_id: uuid.UUID
) -> list[Publication]:
    return list(
        session.exec(
            select(Publication)
            .where(Publication.asset_id == asset_id, Publication.workspace_id == workspace_id)
            .order_by(col(Publication.created_at))
        )
    )


# -- verification ---------------------------------------------------------------------------


def _stored(row: Any) -> ledger.StoredEntry:
    return ledger.StoredEntry(
        seq=row[0],
        license_id=str(row[1]),
        kind=row[2],
        body=bytes(row[3]),
        prev_hash=bytes(row[4]),
        hash=bytes(row[5]),
        event_key=row[6],
        recorded_at=row[7],
    )


_ENTRY_COLUMNS = "seq, license_id, kind, body, prev_hash, hash, event_key, recorded_at"


def iter_entries(session: Session, batch: int = 5000) -> Iterator[ledger.StoredEntry]:
    """Every entry in seq order, streamed from a server-side cursor."""
    result = (
        session.connection()
        .execution_options(stream_results=True, yield_per=batch)
        .execute(
            text(f"SELECT {_ENTRY_COLUMNS} FROM rights_ledger ORDER BY seq")  # noqa: S608
        )
    )
    for row in result:
        yield _stored(row)


def license_entries(session: Session, license_id: uuid.UUID) -> list[ledger.StoredEntry]:
    rows = session.execute(
        text(f"SELECT {_ENTRY_COLUMNS} FROM rights_ledger WHERE license_id = :id ORDER BY seq"),  # noqa: S608
        {"id": license_id},
    )
    return [_stored(r) for r in rows]


def entry_at(session: Session, seq: int) -> ledger.StoredEntry | None:
    row = session.execute(
        text(f"SELECT {_ENTRY_COLUMNS} FROM rights_ledger WHERE seq = :seq"),  # noqa: S608
        {"seq": seq},
    ).first()
    return _stored(row) if row else None


def checkpoints(session: Session) -> list[ledger.StoredCheckpoint]:
    rows = session.exec(select(LedgerCheckpoint).order_by(col(LedgerCheckpoint.to_seq)))
    return [stored_checkpoint(row) for row in rows]


def stored_checkpoint(row: LedgerCheckpoint) -> ledger.StoredCheckpoint:
    return ledger.StoredCheckpoint(
        from_seq=row.from_seq,
        to_seq=row.to_seq,
        body=bytes(row.body),
        hash=bytes(row.hash),
        signature=bytes(row.signature),
        key_id=row.key_id,
    )


def verify(session: Session, public_keys: dict[str, bytes]) -> ledger.Verdict:
    """The chain, its checkpoints, and every license row against its latest entry (the usage
    check reads the rows, so an edited row must not go unnoticed). The row comparison runs
    in PostgreSQL on a second connection while this one walks the chain."""
    engine = session.get_bind()
    with ThreadPoolExecutor(max_workers=1) as pool:
        rows_checked = pool.submit(_rows_on_own_connection, engine)
        verdict = ledger.verify_ledger(iter_entries(session), checkpoints(session), public_keys)
        stray = rows_checked.result()
    if not verdict.ok or stray is None:
        return verdict
    return ledger.Verdict(False, verdict.checked, stray[0], stray[1], verdict.head_hash)


# License rows against the snapshot in their latest ledger entry, compared inside PostgreSQL
# (JSON parsing and comparison there is far cheaper than fetching every body).
_ROW_DIFFERING_FROM_LEDGER = """
WITH latest AS (
    SELECT DISTINCT ON (license_id)
           license_id, seq, convert_from(body, 'UTF8')::jsonb -> 'data' -> 'license' AS snap
    FROM rights_ledger
    ORDER BY license_id, seq DESC
)
SELECT l.id, latest.seq
FROM licenses l LEFT JOIN latest ON latest.license_id = l.id
WHERE latest.seq IS NULL
   OR l.status IS DISTINCT FROM latest.snap ->> 'status'
   OR l.version IS DISTINCT FROM (latest.snap ->> 'version')::int
   OR l.workspace_id::text IS DISTINCT FROM latest.snap ->> 'workspace_id'
   OR l.brand_id::text IS DISTINCT FROM latest.snap ->> 'brand_id'
   OR l.creator_id::text IS DISTINCT FROM latest.snap ->> 'creator_id'
   OR l.asset_id::text IS DISTINCT FROM latest.snap ->> 'asset_id'
   OR l.terms IS DISTINCT FROM latest.snap -> 'terms'
   OR to_jsonb(l.channels) IS DISTINCT FROM latest.snap -> 'terms' -> 'channels'
   OR to_jsonb(l.platforms) IS DISTINCT FROM latest.snap -> 'terms' -> 'platforms'
   OR to_jsonb(l.territories) IS DISTINCT FROM latest.snap -> 'terms' -> 'territories'
   OR l.starts_at IS DISTINCT FROM (latest.snap -> 'terms' ->> 'starts_at')::timestamptz
   OR l.ends_at IS DISTINCT FROM (latest.snap -> 'terms' ->> 'ends_at')::timestamptz
ORDER BY latest.seq NULLS FIRST
LIMIT 1
"""


def _rows_on_own_connection(engine: Any) -> tuple[int | None, str] | None:
    try:
        with Session(engine) as session:
            return row_differing_from_ledger(session)
    except DataError:
        # A body PostgreSQL cannot read as JSON; the chain walk names the entry.
        return None, "a ledger entry's body is not valid JSON"


def row_differing_from_ledger(session: Session) -> tuple[int | None, str] | None:
    """The first license row that says something its latest ledger entry does not (the usage
    check reads the rows)."""
    found = session.execute(text(_ROW_DIFFERING_FROM_LEDGER)).first()
    if found is None:
        return None
    license_id, seq = found
    if seq is None:
        return None, f"license {license_id} has no ledger entry"
    return seq, f"license {license_id}: its stored row differs from ledger entry {seq}"


def checkpoint_hashes(session: Session, checkpoint: LedgerCheckpoint) -> list[bytes]:
    return [
        bytes(h)
        for h in session.exec(
            select(LedgerEntry.hash)
            .where(
                col(LedgerEntry.seq) >= checkpoint.from_seq,
                col(LedgerEntry.seq) <= checkpoint.to_seq,
            )
            .order_by(col(LedgerEntry.seq))
        )
    ]


def proven_checkpoints(
    session: Session, seqs: list[int]
) -> list[tuple[ledger.StoredCheckpoint, list[tuple[int, list[bytes]]]]]:
    """The checkpoints covering any of `seqs`, each with the audit paths of those entries."""
    found: list[tuple[ledger.StoredCheckpoint, list[tuple[int, list[bytes]]]]] = []
    for row in session.exec(
        select(LedgerCheckpoint)
        .where(col(LedgerCheckpoint.to_seq) >= min(seqs, default=0))
        .order_by(col(LedgerCheckpoint.to_seq))
    ):
        covered = [s for s in seqs if row.from_seq <= s <= row.to_seq]
        if not covered:
            continue
        leaves = [ledger.leaf_hash(h) for h in checkpoint_hashes(session, row)]
        found.append(
            (
                stored_checkpoint(row),
                [(s, ledger.inclusion_proof(leaves, s - row.from_seq)) for s in covered],
            )
        )
    return found
