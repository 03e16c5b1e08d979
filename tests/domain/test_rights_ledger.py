"""The rights ledger's arithmetic (hash chain, RFC 9162 Merkle trees, signed checkpoints):
every kind of tampering is caught and named."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import rights_ledger as ledger
from domain.rights_ledger import StoredCheckpoint, StoredEntry
from tests.domain.chains import (
    INTRUDER,
    KEYS,
    LICENSES,
    SIGNER,
    T0,
    chain,
    checkpoint_over,
    checkpoints,
    flip,
    rewritten,
)

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
    signer = ledger.Signer(bytes([7]) * 32)
    assert signer.key_id == hashlib.sha256(signer.public_key).hexdigest()[:16]
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


# -- what is stored beside the body: the event key and the time ------------------------------


def stored(
    seq: int = 1,
    *,
    event_key: str | None,
    recorded_at: datetime | None,
    body_event_key: str | None = "delivery-1:grant",
    body_recorded_at: object = "2027-01-01T00:01:00+00:00",
) -> StoredEntry:
    """An entry as a repository row gives it back, with the columns beside its hashed body."""
    body = ledger.canonical(
        {
            "v": ledger.FORMAT_VERSION,
            "seq": seq,
            "license_id": LICENSES[0],
            "kind": "grant",
            "recorded_at": body_recorded_at,
            "event_key": body_event_key,
            "data": {},
        }
    )
    return StoredEntry(
        seq,
        LICENSES[0],
        "grant",
        body,
        ledger.GENESIS,
        ledger.entry_hash(ledger.GENESIS, body),
        event_key=event_key,
        recorded_at=recorded_at,
    )


RECORDED = T0 + timedelta(minutes=1)
MOVED = "its columns differ from what was hashed (altered or moved)"


def test_a_row_whose_columns_match_its_body_verifies() -> None:
    entry = stored(event_key="delivery-1:grant", recorded_at=RECORDED)
    assert ledger.entry_problem(entry) is None
    assert ledger.verify_chain([entry]).ok


def test_a_tampered_event_key_column_is_caught() -> None:
    # The event key makes appends idempotent: a row claiming another event's key would make a
    # retried event look recorded.
    entry = stored(event_key="delivery-2:grant", recorded_at=RECORDED)
    assert ledger.entry_problem(entry) == MOVED
    verdict = ledger.verify_chain([entry])
    assert (verdict.ok, verdict.first_bad_seq, verdict.reason) == (False, 1, MOVED)


def test_a_body_whose_event_key_was_changed_and_rehashed_is_caught_by_the_column() -> None:
    entry = stored(event_key="delivery-1:grant", recorded_at=None, body_event_key="forged")
    assert ledger.entry_problem(entry) == MOVED


def test_columns_not_known_to_the_reader_are_not_compared() -> None:
    assert ledger.entry_problem(stored(event_key=None, recorded_at=None)) is None


@pytest.mark.parametrize(
    "recorded_at", [RECORDED + timedelta(seconds=1), RECORDED - timedelta(days=1)]
)
def test_a_tampered_recorded_at_column_is_caught(recorded_at: datetime) -> None:
    assert ledger.entry_problem(stored(event_key=None, recorded_at=recorded_at)) == MOVED


def test_the_recorded_instant_matches_in_any_zone() -> None:
    tokyo = RECORDED.astimezone(timezone(timedelta(hours=9)))
    assert ledger.entry_problem(stored(event_key=None, recorded_at=tokyo)) is None


@pytest.mark.parametrize("body_recorded_at", ["not a time", None, 1_798_761_660])
def test_a_body_without_a_readable_time_does_not_match_the_column(
    body_recorded_at: object,
) -> None:
    entry = stored(event_key=None, recorded_at=RECORDED, body_recorded_at=body_recorded_at)
    assert ledger.entry_problem(entry) == MOVED


# -- canonical bodies and verdicts as the API and the CLI show them --------------------------


def test_canonical_json_keeps_text_as_utf8_and_refuses_what_json_cannot_say() -> None:
    assert ledger.canonical({"b": "Zoë", "a": [1, 2]}) == '{"a":[1,2],"b":"Zoë"}'.encode()
    with pytest.raises(ValueError, match="JSON compliant"):
        ledger.canonical({"fee": float("nan")})


def test_a_good_verdict_reads_out_in_full() -> None:
    entries = chain(3)
    assert ledger.verify_chain(entries).as_dict() == {
        "ok": True,
        "checked": 3,
        "first_bad_seq": None,
        "reason": None,
        "head_hash": entries[-1].hash.hex(),
    }


def test_a_gap_reads_out_with_the_last_good_head() -> None:
    entries = chain(4)
    verdict = ledger.verify_chain([entries[0], entries[2], entries[3]])
    assert verdict.as_dict() == {
        "ok": False,
        "checked": 1,
        "first_bad_seq": 3,
        "reason": "sequence gap: entry 2 is missing",
        "head_hash": entries[0].hash.hex(),
    }


def test_an_entry_read_twice_is_out_of_order() -> None:
    entries = chain(3)
    verdict = ledger.verify_chain([entries[0], entries[1], entries[1], entries[2]])
    assert (verdict.checked, verdict.first_bad_seq, verdict.reason) == (
        2,
        2,
        "sequence gap: out of order",
    )


# -- proofs and checkpoints at their edges ---------------------------------------------------


def test_a_position_outside_the_tree_has_no_proof_and_verifies_nothing() -> None:
    leaves = [ledger.leaf_hash(bytes([n]) * 32) for n in range(4)]
    root = ledger.merkle_root(leaves)
    with pytest.raises(IndexError) as raised:
        ledger.inclusion_proof(leaves, 4)
    assert raised.value.args == (4,)
    proof = ledger.inclusion_proof(leaves, 3)
    assert ledger.verify_inclusion(leaves[3], 3, 4, proof, root)
    assert not ledger.verify_inclusion(leaves[3], 4, 4, proof, root)
    # A one-leaf tree's root is its leaf: only position 0 holds it.
    assert ledger.verify_inclusion(leaves[0], 0, 1, [], leaves[0])
    assert not ledger.verify_inclusion(leaves[0], 1, 1, [], leaves[0])


def test_a_signer_is_named_by_the_first_16_hex_digits_of_its_key_digest() -> None:
    signer = ledger.Signer(bytes([7]) * 32)
    assert signer.key_id == hashlib.sha256(signer.public_key).hexdigest()[:16]
    assert len(ledger.key_id(INTRUDER.public_key)) == 16


def test_a_checkpoint_up_to_the_last_entry_verifies() -> None:
    entries = chain(6)
    made = [checkpoint_over(entries, 1, 6, ledger.GENESIS)]
    assert ledger.verify_ledger(entries, made, KEYS).ok


def test_a_signed_checkpoint_stating_a_wrong_root_for_the_right_head_is_caught() -> None:
    entries = chain(6)
    body = ledger.checkpoint_body(
        from_seq=1,
        to_seq=6,
        root=bytes(32),
        head_hash=entries[-1].hash,
        prev_checkpoint=ledger.GENESIS,
        created_at=T0.isoformat(),
        key=SIGNER.key_id,
    )
    forged = StoredCheckpoint(
        1, 6, body, ledger.checkpoint_hash(body), SIGNER.sign(body), SIGNER.key_id
    )
    verdict = ledger.verify_ledger(entries, [forged], KEYS)
    assert verdict.reason == "checkpoint 1..6: the entries it covers were rewritten"


def test_a_checkpoint_beyond_the_ledger_names_the_first_missing_entry() -> None:
    # Entries 6..8 deleted; the checkpoint over 7..8 survives and gives the deletion away.
    entries = chain(8)
    first = checkpoint_over(entries, 1, 2, ledger.GENESIS)
    made = [first, checkpoint_over(entries, 7, 8, first.hash)]
    verdict = ledger.verify_ledger(entries[:5], made, KEYS)
    assert verdict.as_dict() == {
        "ok": False,
        "checked": 5,
        "first_bad_seq": 6,
        "reason": "checkpoint 7..8: it covers entries up to 8, but the ledger ends at 5",
        "head_hash": entries[4].hash.hex(),
    }
