"""Rights ledgers built in memory, the way models/licenses.py appends them, for the tests of
the ledger's arithmetic and of the certificates built on it."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from domain import rights_ledger as ledger
from domain.rights_ledger import StoredCheckpoint, StoredEntry

SIGNER = ledger.Signer(bytes(range(32)))
INTRUDER = ledger.Signer(bytes([0xA5] * 32))
KEYS = {SIGNER.key_id: SIGNER.public_key}
T0 = datetime(2027, 1, 1, tzinfo=UTC)
LICENSES = [str(uuid.UUID(int=n)) for n in (101, 202, 303)]


def data_of(seq: int, license_id: str) -> dict[str, Any]:
    return {"license": {"license_id": license_id, "note": f"entry {seq}"}, "detail": {}}


def append(
    entries: list[StoredEntry],
    license_id: str,
    kind: str = "grant",
    data: dict[str, Any] | None = None,
) -> StoredEntry:
    seq = len(entries) + 1
    prev = entries[-1].hash if entries else ledger.GENESIS
    body = ledger.entry_body(
        seq,
        license_id,
        kind,
        (T0 + timedelta(minutes=seq)).isoformat(),
        data if data is not None else data_of(seq, license_id),
    )
    entry = StoredEntry(seq, license_id, kind, body, prev, ledger.entry_hash(prev, body))
    entries.append(entry)
    return entry


def chain(n: int) -> list[StoredEntry]:
    entries: list[StoredEntry] = []
    for i in range(n):
        append(entries, LICENSES[i % len(LICENSES)], ("grant", "change", "renewal")[i % 3])
    return entries


def rewritten(entries: Sequence[StoredEntry], seq: int, body: bytes) -> list[StoredEntry]:
    """An intruder's rewrite of entry `seq` that rehashes every entry after it consistently."""
    out = list(entries[: seq - 1])
    prev = out[-1].hash if out else ledger.GENESIS
    for entry in entries[seq - 1 :]:
        new_body = body if entry.seq == seq else entry.body
        new = dataclasses.replace(
            entry, body=new_body, prev_hash=prev, hash=ledger.entry_hash(prev, new_body)
        )
        out.append(new)
        prev = new.hash
    return out


def checkpoint_over(
    entries: Sequence[StoredEntry],
    from_seq: int,
    to_seq: int,
    prev: bytes,
    signer: ledger.Signer = SIGNER,
) -> StoredCheckpoint:
    hashes = [e.hash for e in entries[from_seq - 1 : to_seq]]
    body = ledger.checkpoint_body(
        from_seq=from_seq,
        to_seq=to_seq,
        root=ledger.merkle_root([ledger.leaf_hash(h) for h in hashes]),
        head_hash=hashes[-1],
        prev_checkpoint=prev,
        created_at=T0.isoformat(),
        key=signer.key_id,
    )
    return StoredCheckpoint(
        from_seq, to_seq, body, ledger.checkpoint_hash(body), signer.sign(body), signer.key_id
    )


def checkpoints(entries: Sequence[StoredEntry], every: int) -> list[StoredCheckpoint]:
    """A checkpoint after every `every` entries, as record_event makes them."""
    made: list[StoredCheckpoint] = []
    for to_seq in range(every, len(entries) + 1, every):
        prev = made[-1].hash if made else ledger.GENESIS
        made.append(checkpoint_over(entries, to_seq - every + 1, to_seq, prev))
    return made


def flip(data: bytes, position: int, mask: int = 0x01) -> bytes:
    i = position % len(data)
    return data[:i] + bytes([data[i] ^ mask]) + data[i + 1 :]
