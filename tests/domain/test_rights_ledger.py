"""The rights ledger's arithmetic (hash chain, RFC 9162 Merkle trees, signed checkpoints) and the
license certificates built on it: every kind of tampering is caught and named."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activities.licensing import certificate
from domain import rights_ledger as ledger
from domain.enums import LicenseStatus
from domain.rights_ledger import StoredCheckpoint, StoredEntry
from workflows.contracts.license import LicenseSnapshot, LicenseTerms

SIGNER = ledger.Signer(bytes(range(32)))
INTRUDER = ledger.Signer(bytes([0xA5] * 32))
KEYS = {SIGNER.key_id: SIGNER.public_key}
T0 = datetime(2027, 1, 1, tzinfo=UTC)
LICENSES = [str(uuid.UUID(int=n)) for n in (101, 202, 303)]


# -- building ledgers in memory, the way models/licenses.py appends them ----------------------


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


# -- the hash chain -----------------------------------------------------------------------


def test_a_genuine_chain_verifies_to_its_head() -> None:
    entries = chain(25)
    verdict = ledger.verify_chain(entries)
    assert verdict == ledger.Verdict(True, 25, head_hash=entries[-1].hash)
    assert verdict.as_dict()["head_hash"] == entries[-1].hash.hex()
    assert ledger.verify_chain([]) == ledger.Verdict(True, 0, head_hash=ledger.GENESIS)


def test_entry_bodies_are_canonical_json_of_what_was_recorded() -> None:
    body = ledger.entry_body(
        7, LICENSES[0], "renewal", "2027-01-01T00:00:00+00:00", {"b": "é"}, "license-1:2:renewal"
    )
    assert (
        body
        == (
            '{"data":{"b":"é"},"event_key":"license-1:2:renewal","kind":"renewal",'
            '"license_id":"' + LICENSES[0] + '",'
            '"recorded_at":"2027-01-01T00:00:00+00:00","seq":7,"v":1}'
        ).encode()
    )
    # Each hash commits to the previous one: the same body after another entry hashes apart.
    assert ledger.entry_hash(ledger.GENESIS, body) != ledger.entry_hash(b"\x01" * 32, body)


@settings(deadline=None)
@given(
    st.integers(min_value=1, max_value=30),
    st.data(),
    st.sampled_from(["body", "prev_hash", "hash"]),
    st.integers(min_value=1, max_value=255),
)
def test_changing_any_stored_byte_names_that_entry(
    n: int, data: st.DataObject, column: str, mask: int
) -> None:
    entries = chain(n)
    seq = data.draw(st.integers(min_value=1, max_value=n), label="seq")
    target = entries[seq - 1]
    value: bytes = getattr(target, column)
    position = data.draw(st.integers(min_value=0, max_value=len(value) - 1), label="position")
    change: dict[str, Any] = {column: flip(value, position, mask)}
    entries[seq - 1] = dataclasses.replace(target, **change)
    verdict = ledger.verify_chain(entries)
    assert not verdict.ok
    assert verdict.first_bad_seq == seq
    assert verdict.checked == seq - 1
    assert verdict.head_hash == (entries[seq - 2].hash if seq > 1 else ledger.GENESIS)


@given(st.integers(min_value=2, max_value=30), st.data())
def test_deleting_an_entry_names_the_gap(n: int, data: st.DataObject) -> None:
    entries = chain(n)
    seq = data.draw(st.integers(min_value=1, max_value=n - 1), label="deleted")
    del entries[seq - 1]
    verdict = ledger.verify_chain(entries)
    assert not verdict.ok
    assert verdict.first_bad_seq == seq + 1
    assert verdict.reason == f"sequence gap: entry {seq} is missing"


@given(st.integers(min_value=2, max_value=30), st.data())
def test_swapping_two_stored_entries_names_the_first_moved(n: int, data: st.DataObject) -> None:
    # In the table rows are read by seq; swapping two entries swaps everything but seq.
    entries = chain(n)
    i = data.draw(st.integers(min_value=1, max_value=n - 1), label="first")
    j = data.draw(st.integers(min_value=i + 1, max_value=n), label="second")
    a, b = entries[i - 1], entries[j - 1]
    entries[i - 1] = dataclasses.replace(b, seq=i)
    entries[j - 1] = dataclasses.replace(a, seq=j)
    verdict = ledger.verify_chain(entries)
    assert not verdict.ok
    assert verdict.first_bad_seq == i
    assert verdict.checked == i - 1


def test_entries_read_out_of_order_are_refused() -> None:
    entries = chain(6)
    entries[1], entries[4] = entries[4], entries[1]
    verdict = ledger.verify_chain(entries)
    assert not verdict.ok
    assert verdict.checked == 1
    assert verdict.reason is not None
    assert verdict.reason.startswith("sequence gap")


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "termination"},
        {"license_id": LICENSES[2]},
    ],
)
def test_altering_a_column_without_its_body_is_caught(change: dict[str, Any]) -> None:
    # The columns queries use (which license, what happened) must agree with what was hashed.
    entries = chain(9)
    entries[3] = dataclasses.replace(entries[3], **change)
    verdict = ledger.verify_chain(entries)
    assert (verdict.ok, verdict.first_bad_seq) == (False, 4)
    assert verdict.reason == "its columns differ from what was hashed (altered or moved)"


def test_a_body_that_is_no_longer_json_is_caught_even_if_rehashed() -> None:
    entries = chain(5)
    entries = rewritten(entries, 3, b"\xff not json")
    verdict = ledger.verify_chain(entries)
    assert (verdict.ok, verdict.first_bad_seq) == (False, 3)
    assert verdict.reason == "its body is not valid JSON (altered)"


def test_a_suffix_verifies_from_a_trusted_head() -> None:
    entries = chain(20)
    suffix = entries[10:]
    good = ledger.verify_chain(suffix, after_seq=10, after_hash=entries[9].hash)
    assert (good.ok, good.checked, good.head_hash) == (True, 10, entries[-1].hash)
    bad = ledger.verify_chain(suffix, after_seq=10, after_hash=entries[8].hash)
    assert (bad.ok, bad.first_bad_seq) == (False, 11)
    assert bad.reason == "it does not link to entry 10"


def test_a_consistently_rehashed_rewrite_escapes_the_chain_alone() -> None:
    # Why checkpoints exist: an intruder who rehashes everything after the change leaves a
    # chain that links; only the signed checkpoint (or an anchored head) tells.
    entries = chain(12)
    forged = rewritten(entries, 4, entries[3].body.replace(b"entry 4", b"entry X"))
    assert ledger.verify_chain(forged).ok
    assert ledger.verify_chain(forged).head_hash != entries[-1].hash


# -- Merkle trees (RFC 9162) --------------------------------------------------------------


def mth(data: Sequence[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, written out recursively."""
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(data[:k]) + mth(data[k:])).digest()


def path(m: int, data: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 section 2.1.3.1: the audit path of leaf m, bottom-up."""
    n = len(data)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path(m, data[:k]), mth(data[k:])]
    return [*path(m - k, data[k:]), mth(data[:k])]


# The test vectors of RFC 6962's reference implementation (certificate-transparency), whose tree
# hashing RFC 9162 keeps: the leaf inputs and the root of the first n of them.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("n", range(1, 9))
def test_merkle_roots_match_the_rfc_6962_test_vectors(n: int) -> None:
    leaves = [ledger.leaf_hash(d) for d in CT_LEAVES[:n]]
    assert ledger.merkle_root(leaves).hex() == CT_ROOTS[n - 1]
    assert mth(CT_LEAVES[:n]).hex() == CT_ROOTS[n - 1]


def test_the_empty_tree_hashes_the_empty_string() -> None:
    assert ledger.merkle_root([]) == hashlib.sha256(b"").digest()


leaf_data = st.lists(st.binary(min_size=0, max_size=40), min_size=1, max_size=70)


@given(leaf_data)
def test_merkle_root_is_the_rfc_tree_hash(data: list[bytes]) -> None:
    assert ledger.merkle_root([ledger.leaf_hash(d) for d in data]) == mth(data)


@settings(deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=70, unique=True), st.data())
def test_inclusion_proofs_are_rfc_audit_paths_and_verify(
    data: list[bytes], draw: st.DataObject
) -> None:
    leaves = [ledger.leaf_hash(d) for d in data]
    root = ledger.merkle_root(leaves)
    n = len(leaves)
    for index in range(n):
        proof = ledger.inclusion_proof(leaves, index)
        assert proof == path(index, data)
        assert ledger.verify_inclusion(leaves[index], index, n, proof, root)
    index = draw.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    other = draw.draw(st.integers(min_value=0, max_value=n - 1), label="other")
    proof = ledger.inclusion_proof(leaves, index)
    if other != index:
        # Another leaf at this position, or this leaf at another position: no proof.
        assert not ledger.verify_inclusion(leaves[other], index, n, proof, root)
        assert not ledger.verify_inclusion(leaves[index], other, n, proof, root)
    stranger = ledger.leaf_hash(b"not in the tree")
    assert not ledger.verify_inclusion(stranger, index, n, proof, root)
    assert not ledger.verify_inclusion(leaves[index], index, n, proof, hashlib.sha256().digest())
    if proof:
        assert not ledger.verify_inclusion(leaves[index], index, n, proof[:-1], root)
        assert not ledger.verify_inclusion(leaves[index], index, n, [*proof, root], root)
        bent = [flip(proof[0], 0), *proof[1:]]
        assert not ledger.verify_inclusion(leaves[index], index, n, bent, root)


def test_proofs_for_positions_outside_the_tree_are_refused() -> None:
    leaves = [ledger.leaf_hash(bytes([i])) for i in range(5)]
    root = ledger.merkle_root(leaves)
    with pytest.raises(IndexError):
        ledger.inclusion_proof(leaves, 5)
    with pytest.raises(IndexError):
        ledger.inclusion_proof(leaves, -1)
    proof = ledger.inclusion_proof(leaves, 4)
    assert not ledger.verify_inclusion(leaves[4], 5, 5, proof, root)
    assert not ledger.verify_inclusion(leaves[4], -1, 5, proof, root)
    assert not ledger.verify_inclusion(leaves[0], 0, 0, [], root)


# -- signed checkpoints -------------------------------------------------------------------


def test_keys_are_named_by_their_digest_and_only_they_verify() -> None:
    assert SIGNER.key_id == hashlib.sha256(SIGNER.public_key).hexdigest()[:16]
    assert ledger.Signer(bytes(range(32))).public_key == SIGNER.public_key  # from the seed
    signature = SIGNER.sign(b"statement")
    assert ledger.signature_valid(SIGNER.public_key, signature, b"statement")
    assert not ledger.signature_valid(SIGNER.public_key, signature, b"statemenT")
    assert not ledger.signature_valid(INTRUDER.public_key, signature, b"statement")
    assert not ledger.signature_valid(b"short", signature, b"statement")


def test_a_checkpoint_states_what_it_covers_in_an_anchorable_form() -> None:
    entries = chain(10)
    cp = checkpoints(entries, 5)[1]
    statement = json.loads(cp.body)
    assert cp.body == ledger.canonical(statement)
    assert cp.hash == hashlib.sha256(cp.body).digest()
    leaves = [ledger.leaf_hash(e.hash) for e in entries[5:10]]
    assert statement == {
        "v": 1,
        "ledger": "nexus-rights",
        "from_seq": 6,
        "to_seq": 10,
        "merkle_root": ledger.merkle_root(leaves).hex(),
        "head_hash": entries[9].hash.hex(),
        "prev_checkpoint": checkpoints(entries, 5)[0].hash.hex(),
        "created_at": T0.isoformat(),
        "key_id": SIGNER.key_id,
    }


def test_a_genuine_ledger_with_checkpoints_verifies() -> None:
    entries = chain(23)
    verdict = ledger.verify_ledger(entries, checkpoints(entries, 5), KEYS)
    assert verdict == ledger.Verdict(True, 23, head_hash=entries[-1].hash)


@pytest.mark.parametrize(("seq", "first_bad"), [(1, 1), (4, 1), (5, 1), (6, 6), (17, 16)])
def test_a_rehashed_rewrite_is_caught_by_the_checkpoint_covering_it(
    seq: int, first_bad: int
) -> None:
    entries = chain(23)
    made = checkpoints(entries, 5)
    target = entries[seq - 1].body
    forged = rewritten(entries, seq, target.replace(b'"note":"entry', b'"note":"ENTRY'))
    assert ledger.verify_chain(forged).ok
    verdict = ledger.verify_ledger(forged, made, KEYS)
    assert not verdict.ok
    assert verdict.first_bad_seq == first_bad
    assert verdict.reason == (
        f"checkpoint {first_bad}..{first_bad + 4}: the entries it covers were rewritten"
    )


@pytest.mark.parametrize("keep", [0, 12, 17, 19])
def test_deleting_trailing_entries_a_checkpoint_covers_is_caught(keep: int) -> None:
    entries = chain(23)
    made = checkpoints(entries, 5)  # 1..5, 6..10, 11..15, 16..20
    verdict = ledger.verify_ledger(entries[:keep], made, KEYS)
    assert not verdict.ok
    covering = next(cp for cp in made if cp.to_seq > keep)
    assert verdict.first_bad_seq == min(covering.from_seq, keep + 1)
    assert verdict.reason == (
        f"checkpoint {covering.from_seq}..{covering.to_seq}: it covers entries up to "
        f"{covering.to_seq}, but the ledger ends at {keep}"
    )


def altered(made: list[StoredCheckpoint], n: int, **change: Any) -> list[StoredCheckpoint]:
    out = list(made)
    out[n] = dataclasses.replace(out[n], **change)
    return out


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (
            lambda made: altered(made, 1, signature=flip(made[1].signature, 10)),
            "checkpoint 6..10: its signature does not verify",
        ),
        (
            lambda made: altered(made, 1, hash=flip(made[1].hash, 0)),
            "checkpoint 6..10: its hash does not match its statement",
        ),
        (
            lambda made: altered(made, 1, to_seq=9),
            "checkpoint 6..9: its columns differ from the signed statement",
        ),
        (
            lambda made: [made[0], made[2]],
            "checkpoint 11..15: it does not link to the checkpoint before it",
        ),
        (
            # A statement signed by another key, even a self-consistent one.
            lambda made: [made[0], checkpoint_over(chain(15), 6, 10, made[0].hash, INTRUDER)],
            "checkpoint 6..10: its signature does not verify",
        ),
    ],
)
def test_tampered_checkpoints_are_caught(
    tamper: Callable[[list[StoredCheckpoint]], list[StoredCheckpoint]], reason: str
) -> None:
    entries = chain(15)
    verdict = ledger.verify_ledger(entries, tamper(checkpoints(entries, 5)), KEYS)
    assert not verdict.ok
    assert verdict.reason == reason


def test_checkpoints_verify_only_with_the_ledger_key() -> None:
    entries = chain(10)
    made = checkpoints(entries, 5)
    verdict = ledger.verify_ledger(entries, made, {INTRUDER.key_id: INTRUDER.public_key})
    assert (verdict.ok, verdict.first_bad_seq) == (False, 1)
    assert verdict.reason == "checkpoint 1..5: its signature does not verify"
    # The key under the wrong name is no better than none.
    verdict = ledger.verify_ledger(entries, made, {SIGNER.key_id: INTRUDER.public_key})
    assert not verdict.ok


def test_a_broken_chain_is_reported_before_any_checkpoint() -> None:
    entries = chain(12)
    made = checkpoints(entries, 5)
    entries[7] = dataclasses.replace(entries[7], body=flip(entries[7].body, 3))
    verdict = ledger.verify_ledger(entries, made, KEYS)
    assert (verdict.ok, verdict.first_bad_seq) == (False, 8)
    assert verdict.reason == "its content does not match its hash (altered)"


# -- certificates -------------------------------------------------------------------------

TERMS = LicenseTerms(
    channels=["paid_social", "organic_social"],
    platforms=["tiktok"],
    territories=["US", "CA"],
    starts_at=T0,
    ends_at=T0 + timedelta(days=365),
    fee_minor=50_000,
    currency="USD",
)
LICENSE_ID = uuid.UUID(int=101)


def snapshot(version: int, status: LicenseStatus, terms: LicenseTerms = TERMS) -> dict[str, Any]:
    return LicenseSnapshot(
        license_id=LICENSE_ID,
        workspace_id=uuid.UUID(int=1),
        brand_id=uuid.UUID(int=2),
        creator_id=uuid.UUID(int=3),
        campaign_id=uuid.UUID(int=4),
        delivery_id=uuid.UUID(int=5),
        asset_id=uuid.UUID(int=6),
        asset_key="media/asset/final.mp4",
        status=status,
        version=version,
        terms=terms,
    ).model_dump(mode="json")


# The license's own events among other licenses' entries; checkpoints after 5 and 10.
HISTORY = {
    2: ("grant", 1, LicenseStatus.ACTIVE),
    5: ("change", 2, LicenseStatus.ACTIVE),
    9: ("renewal", 3, LicenseStatus.ACTIVE),
    12: ("termination", 4, LicenseStatus.TERMINATED),
}


def certified_ledger() -> tuple[list[StoredEntry], list[StoredCheckpoint]]:
    entries: list[StoredEntry] = []
    for seq in range(1, 13):
        if seq in HISTORY:
            kind, version, status = HISTORY[seq]
            append(
                entries,
                str(LICENSE_ID),
                kind,
                {"license": snapshot(version, status), "detail": {}},
            )
        else:
            append(entries, LICENSES[1])
    return entries, checkpoints(entries, 5)


def issue(signer: ledger.Signer = SIGNER, *, with_checkpoints: bool = True) -> dict[str, Any]:
    entries, made = certified_ledger()
    mine = [e for e in entries if e.license_id == str(LICENSE_ID)]
    proven = []
    for cp in made if with_checkpoints else []:
        leaves = [ledger.leaf_hash(e.hash) for e in entries[cp.from_seq - 1 : cp.to_seq]]
        covered = [e.seq for e in mine if cp.from_seq <= e.seq <= cp.to_seq]
        proven.append(
            certificate.ProvenCheckpoint(
                cp,
                [
                    certificate.CoveredEntry(s, ledger.inclusion_proof(leaves, s - cp.from_seq))
                    for s in covered
                ],
            )
        )
    return certificate.build(
        license_id=str(LICENSE_ID),
        entries=mine,
        checkpoints=proven,
        issued_at="2027-06-01T00:00:00+00:00",
        signer=signer,
    )


def test_a_genuine_certificate_verifies_offline_and_with_the_pinned_key() -> None:
    document = issue()
    assert document["license"] == snapshot(4, LicenseStatus.TERMINATED)
    assert [e["seq"] for e in document["entries"]] == [2, 5, 9, 12]
    assert [len(c["proofs"]) for c in document["checkpoints"]] == [2, 1]
    assert certificate.verify_certificate(document) == []
    assert certificate.verify_certificate(document, trusted_public_key=SIGNER.public_key) == []
    # Offline means from the JSON file alone.
    assert certificate.verify_certificate(json.loads(json.dumps(document))) == []


def edit_terms(doc: dict[str, Any]) -> None:
    doc["license"]["terms"]["territories"] = ["WW"]


def edit_entry(doc: dict[str, Any]) -> None:
    doc["entries"][1]["body"] = doc["entries"][1]["body"].replace('"version":2', '"version":7')


def drop_entry(doc: dict[str, Any]) -> None:
    del doc["entries"][1]


def reorder_entries(doc: dict[str, Any]) -> None:
    doc["entries"][0], doc["entries"][1] = doc["entries"][1], doc["entries"][0]


def edit_signature(doc: dict[str, Any]) -> None:
    doc["signature"] = flip(bytes.fromhex(doc["signature"]), 5).hex()


def edit_proof(doc: dict[str, Any]) -> None:
    proof = doc["checkpoints"][0]["proofs"][0]
    proof["path"][0] = flip(bytes.fromhex(proof["path"][0]), 0).hex()


def edit_statement(doc: dict[str, Any]) -> None:
    item = doc["checkpoints"][1]
    item["statement"] = item["statement"].replace('"to_seq":10', '"to_seq":11')


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (edit_terms, "the license terms differ from its latest ledger entry"),
        (edit_entry, "ledger entry 5: its content does not match its hash (altered)"),
        (drop_entry, "checkpoint 1..5: entry 5 is not in the signed tree"),
        (reorder_entries, "ledger entry 2 is out of order"),
        (edit_signature, "the certificate's signature does not verify (altered or forged)"),
        (edit_proof, "checkpoint 1..5: entry 2 is not in the signed tree"),
        (edit_statement, "checkpoint 6..11: its signature does not verify"),
    ],
)
def test_any_edit_to_a_certificate_is_reported(
    tamper: Callable[[dict[str, Any]], None], expected: str
) -> None:
    document = copy.deepcopy(issue())
    tamper(document)
    problems = certificate.verify_certificate(document)
    assert expected in problems
    # Whatever was edited, the signature over the whole document no longer holds.
    assert "the certificate's signature does not verify (altered or forged)" in problems


def test_a_certificate_signed_with_another_key_is_caught_by_pinning() -> None:
    genuine = issue()
    assert certificate.verify_certificate(genuine, trusted_public_key=INTRUDER.public_key) == [
        "signed with a key other than the trusted ledger key"
    ]
    # A forger re-signing with their own key cannot carry the ledger's signed checkpoints...
    forged = issue(INTRUDER)
    assert certificate.verify_certificate(forged) == [
        "checkpoint 1..5: its signature does not verify",
        "checkpoint 6..10: its signature does not verify",
    ]
    # ...and without them the document is self-consistent: only the pinned key tells.
    bare = issue(INTRUDER, with_checkpoints=False)
    assert certificate.verify_certificate(bare) == []
    assert certificate.verify_certificate(bare, trusted_public_key=SIGNER.public_key) == [
        "signed with a key other than the trusted ledger key"
    ]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"type": "something else"}, "not a NEXUS license certificate"),
        ({"type": certificate.CERTIFICATE_TYPE}, "malformed certificate: KeyError('public_key')"),
    ],
)
def test_documents_that_are_no_certificate_are_reported_not_raised(
    document: dict[str, Any], problem: str
) -> None:
    assert certificate.verify_certificate(document) == [problem]


def test_a_certificate_with_garbage_in_it_is_reported_not_raised() -> None:
    document = issue()
    document["entries"][0]["hash"] = "not hex"
    problems = certificate.verify_certificate(document)
    assert len(problems) == 1
    assert problems[0].startswith("malformed certificate: ValueError(")


def pdf_of(document: dict[str, Any]) -> tuple[str, dict[str, list[bytes]]]:
    data = certificate.render_pdf(document)
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text, dict(reader.attachments)


def test_the_pdf_shows_the_license_and_embeds_the_signed_json() -> None:
    document = issue()
    text, attachments = pdf_of(document)
    assert "License certificate" in text
    assert str(LICENSE_ID) in text
    assert "terminated (version 4)" in text
    assert "paid_social, organic_social" in text
    assert "2028-01-01T00:00:00Z" in text
    assert list(attachments) == [f"license-{LICENSE_ID}.json"]
    (embedded,) = attachments[f"license-{LICENSE_ID}.json"]
    assert json.loads(embedded) == document
    assert certificate.verify_certificate(json.loads(embedded)) == []


def test_the_pdf_prints_perpetual_terms_and_text_outside_latin_1() -> None:
    perpetual = LicenseTerms.model_validate(
        TERMS.model_dump()
        | {
            "ends_at": None,
            "perpetual_consent": True,
            "exclusivity": {"category": "スキンケア für Männer", "ends_at": T0 + timedelta(90)},
        }
    )
    entries: list[StoredEntry] = []
    append(
        entries,
        str(LICENSE_ID),
        "grant",
        {"license": snapshot(1, LicenseStatus.ACTIVE, perpetual), "detail": {}},
    )
    document = certificate.build(
        license_id=str(LICENSE_ID),
        entries=entries,
        checkpoints=[],
        issued_at="2027-06-01T00:00:00+00:00",
        signer=SIGNER,
    )
    text, attachments = pdf_of(document)
    assert "perpetual (consented by the creator)" in text
    assert "für Männer" in text
    (embedded,) = attachments[f"license-{LICENSE_ID}.json"]
    assert json.loads(embedded)["license"]["terms"]["exclusivity"]["category"] == (
        "スキンケア für Männer"
    )
