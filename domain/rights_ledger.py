"""The rights ledger's arithmetic: a hash chain of entries with signed Merkle checkpoints.

Each entry commits to the previous one: hash = SHA-256(domain || previous hash || body), where
body is the entry's canonical JSON (sorted keys, no spaces, UTF-8). Changing a stored byte,
deleting an entry or swapping two breaks the chain at the first bad entry. Checkpoints fold a
run of entry hashes into a Merkle root (RFC 9162 tree hashing, so inclusion proofs are the
standard audit paths), chain to the previous checkpoint and are signed with Ed25519. A
checkpoint's hash is a single value that could be published or anchored elsewhere later.

Plain Python without I/O; the repository in models/licenses.py stores what this computes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

GENESIS = bytes(32)
_DOMAIN = b"nexus-rights-ledger/v1\n"
_LEAF, _NODE = b"\x00", b"\x01"
FORMAT_VERSION = 1


def canonical(document: Any) -> bytes:
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def entry_body(
    seq: int,
    license_id: str,
    kind: str,
    recorded_at: str,
    data: dict[str, Any],
    event_key: str | None = None,
) -> bytes:
    return canonical(
        {
            "v": FORMAT_VERSION,
            "seq": seq,
            "license_id": license_id,
            "kind": kind,
            "recorded_at": recorded_at,
            "event_key": event_key,
            "data": data,
        }
    )


def entry_hash(prev_hash: bytes, body: bytes) -> bytes:
    return hashlib.sha256(_DOMAIN + prev_hash + body).digest()


@dataclass(frozen=True)
class StoredEntry:
    """An entry as stored: the columns queries use, and the hashed body they must agree with."""

    seq: int
    license_id: str
    kind: str
    body: bytes
    prev_hash: bytes
    hash: bytes
    # Checked against the body when known (stored rows always know them).
    event_key: str | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: bytes = GENESIS

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
            "head_hash": self.head_hash.hex(),
        }


def entry_problem(entry: StoredEntry) -> str | None:
    """What is wrong with one entry on its own: its hash, or columns that differ from its body."""
    if entry_hash(entry.prev_hash, entry.body) != entry.hash:
        return "its content does not match its hash (altered)"
    try:
        header = json.loads(entry.body)
    except ValueError:
        return "its body is not valid JSON (altered)"
    moved = "its columns differ from what was hashed (altered or moved)"
    if not isinstance(header, dict) or (
        header.get("seq"),
        header.get("license_id"),
        header.get("kind"),
    ) != (entry.seq, entry.license_id, entry.kind):
        return moved
    if entry.event_key is not None and header.get("event_key") != entry.event_key:
        return moved
    if entry.recorded_at is not None and not _same_instant(
        header.get("recorded_at"), entry.recorded_at
    ):
        return moved
    return None


def _same_instant(iso: object, stored: datetime) -> bool:
    try:
        return isinstance(iso, str) and datetime.fromisoformat(iso) == stored
    except ValueError:
        return False


def verify_chain(
    entries: Iterable[StoredEntry], *, after_seq: int = 0, after_hash: bytes = GENESIS
) -> Verdict:
    """Walk entries in seq order from the one after `after_seq`; stop at the first bad entry."""
    expected_seq, prev = after_seq + 1, after_hash
    checked = 0
    for entry in entries:
        if entry.seq != expected_seq:
            missing = (
                f"entry {expected_seq} is missing" if entry.seq > expected_seq else "out of order"
            )
            return Verdict(False, checked, entry.seq, f"sequence gap: {missing}", prev)
        if entry.prev_hash != prev:
            return Verdict(
                False, checked, entry.seq, f"it does not link to entry {entry.seq - 1}", prev
            )
        problem = entry_problem(entry)
        if problem is not None:
            return Verdict(False, checked, entry.seq, problem, prev)
        prev, expected_seq = entry.hash, expected_seq + 1
        checked += 1
    return Verdict(True, checked, head_hash=prev)


# -- Merkle trees (RFC 9162, section 2.1) ---------------------------------------------------


def leaf_hash(entry_hash_: bytes) -> bytes:
    return hashlib.sha256(_LEAF + entry_hash_).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Root over already leaf-hashed values."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    # Bottom-up pairing gives the RFC tree: an odd node is carried up unchanged.
    while len(level) > 1:
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf `index`, bottom-up."""
    if not 0 <= index < len(leaves):
        raise IndexError(index)
    path: list[bytes] = []
    level, i = list(leaves), index
    while len(level) > 1:
        sibling = i ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        paired = [_node(level[j], level[j + 1]) for j in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level, i = paired, i // 2
    return path


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2: does `proof` place `leaf` at `index` in a tree of `size`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


# -- signed checkpoints ---------------------------------------------------------------------


class Signer:
    """Ed25519 key of this ledger: signs checkpoints and license certificates."""

    def __init__(self, seed: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def signature_valid(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def checkpoint_body(
    *,
    from_seq: int,
    to_seq: int,
    root: bytes,
    head_hash: bytes,
    prev_checkpoint: bytes,
    created_at: str,
    key: str,
) -> bytes:
    """The signed, anchorable statement: entries from..to hash to `root`, ending at `head_hash`."""
    return canonical(
        {
            "v": FORMAT_VERSION,
            "ledger": "nexus-rights",
            "from_seq": from_seq,
            "to_seq": to_seq,
            "merkle_root": root.hex(),
            "head_hash": head_hash.hex(),
            "prev_checkpoint": prev_checkpoint.hex(),
            "created_at": created_at,
            "key_id": key,
        }
    )


def checkpoint_hash(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


@dataclass(frozen=True)
class StoredCheckpoint:
    from_seq: int
    to_seq: int
    body: bytes
    hash: bytes
    signature: bytes
    key_id: str


def checkpoint_problem(
    checkpoint: StoredCheckpoint,
    hashes: Sequence[bytes],
    prev_checkpoint: bytes,
    public_keys: Mapping[str, bytes],
) -> str | None:
    """What is wrong with a checkpoint, given the entry hashes (index 0 is entry 1)."""
    key = public_keys.get(checkpoint.key_id)
    if key is None or not signature_valid(key, checkpoint.signature, checkpoint.body):
        return "its signature does not verify"
    if checkpoint_hash(checkpoint.body) != checkpoint.hash:
        return "its hash does not match its statement"
    statement = json.loads(checkpoint.body)
    if (statement["from_seq"], statement["to_seq"]) != (checkpoint.from_seq, checkpoint.to_seq):
        return "its columns differ from the signed statement"
    if statement["prev_checkpoint"] != prev_checkpoint.hex():
        return "it does not link to the checkpoint before it"
    if checkpoint.to_seq > len(hashes):
        return f"it covers entries up to {checkpoint.to_seq}, but the ledger ends at {len(hashes)}"
    covered = hashes[checkpoint.from_seq - 1 : checkpoint.to_seq]
    if statement["head_hash"] != covered[-1].hex() or statement["merkle_root"] != (
        merkle_root([leaf_hash(h) for h in covered]).hex()
    ):
        return "the entries it covers were rewritten"
    return None


def verify_ledger(
    entries: Iterable[StoredEntry],
    checkpoints: Sequence[StoredCheckpoint],
    public_keys: Mapping[str, bytes],
) -> Verdict:
    """The whole chain, then every signed checkpoint against the entries it covers."""
    hashes: list[bytes] = []

    def collected() -> Iterator[StoredEntry]:
        for entry in entries:
            hashes.append(entry.hash)
            yield entry

    verdict = verify_chain(collected())
    if not verdict.ok:
        return verdict
    prev = GENESIS
    for checkpoint in checkpoints:
        problem = checkpoint_problem(checkpoint, hashes, prev, public_keys)
        if problem is not None:
            first_bad = min(checkpoint.from_seq, len(hashes) + 1)
            return Verdict(
                False,
                verdict.checked,
                first_bad,
                f"checkpoint {checkpoint.from_seq}..{checkpoint.to_seq}: {problem}",
                verdict.head_hash,
            )
        prev = checkpoint.hash
    return verdict
