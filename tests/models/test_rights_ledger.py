"""The rights ledger as stored in PostgreSQL: appends, idempotency, append-only enforcement,
signed checkpoints, and tampering with stored rows (as someone with database access could),
which verification catches at the first bad entry, through the repository and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy.exc
from sqlalchemy import Engine, text
from sqlmodel import Session

from domain import rights_ledger as ledger
from models import licenses
from nexus import cli
from nexus.settings import Settings
from tests.licensing_support import NOW, fill, record, snapshot
from workflows.contracts.license import (
    ExclusivityTerm,
)


@pytest.fixture
def signer(settings: Settings) -> ledger.Signer:
    return ledger.Signer(settings.licensing.signing_seed())


def verdict(engine: Engine, signer: ledger.Signer) -> ledger.Verdict:
    with Session(engine) as session:
        return licenses.verify(session, {signer.key_id: signer.public_key})


@pytest.fixture
def tamper(engine: Engine) -> Engine:
    """Database access that bypasses the append-only trigger, as an intruder's would."""
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE rights_ledger DISABLE TRIGGER USER"))
        conn.execute(text("ALTER TABLE rights_ledger_checkpoints DISABLE TRIGGER USER"))
    return engine


def run_sql(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql))


def test_entries_chain_and_an_event_is_recorded_once(engine: Engine, signer: ledger.Signer) -> None:
    snap = snapshot(engine)
    first = record(engine, signer, snap, "grant", "k:1", 1000)
    again = record(engine, signer, snap, "grant", "k:1", 1000)
    assert first.seq == again.seq == 1
    record(engine, signer, snap, "change", "k:2", 1000)
    with Session(engine) as session:
        entries = licenses.license_entries(session, snap.license_id)
    assert [(e.seq, e.kind) for e in entries] == [(1, "grant"), (2, "change")]
    assert entries[1].prev_hash == entries[0].hash
    assert json.loads(entries[0].body)["data"]["license"]["terms"]["territories"] == ["US"]
    assert verdict(engine, signer) == ledger.Verdict(True, 2, head_hash=entries[1].hash)


def test_the_ledger_refuses_updates_and_deletes(engine: Engine, signer: ledger.Signer) -> None:
    fill(engine, signer, 2, every=2)
    for sql in (
        "UPDATE rights_ledger SET kind = 'expiry' WHERE seq = 1",
        "DELETE FROM rights_ledger WHERE seq = 2",
        "DELETE FROM rights_ledger_checkpoints",
    ):
        with pytest.raises(sqlalchemy.exc.ProgrammingError, match="append-only"):
            run_sql(engine, sql)
    assert verdict(engine, signer).ok


def test_a_changed_byte_is_named_at_its_entry(tamper: Engine, signer: ledger.Signer) -> None:
    fill(tamper, signer, 6)
    run_sql(
        tamper,
        "UPDATE rights_ledger SET body = overlay(body placing 'X' from 40 for 1) WHERE seq = 4",
    )
    found = verdict(tamper, signer)
    assert (found.ok, found.first_bad_seq, found.checked) == (False, 4, 3)
    assert found.reason == "its content does not match its hash (altered)"


def test_a_deleted_entry_is_named(tamper: Engine, signer: ledger.Signer) -> None:
    fill(tamper, signer, 6)
    run_sql(tamper, "DELETE FROM rights_ledger WHERE seq = 3")
    found = verdict(tamper, signer)
    assert (found.first_bad_seq, found.reason) == (4, "sequence gap: entry 3 is missing")


def test_two_swapped_entries_are_named(tamper: Engine, signer: ledger.Signer) -> None:
    fill(tamper, signer, 6)
    run_sql(tamper, "UPDATE rights_ledger SET seq = -seq WHERE seq IN (2, 3)")
    run_sql(
        tamper, "UPDATE rights_ledger SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE seq < 0"
    )
    found = verdict(tamper, signer)
    assert (found.first_bad_seq, found.reason) == (2, "it does not link to entry 1")


def test_a_moved_column_is_named(tamper: Engine, signer: ledger.Signer) -> None:
    fill(tamper, signer, 3)
    run_sql(tamper, "UPDATE rights_ledger SET kind = 'termination' WHERE seq = 2")
    found = verdict(tamper, signer)
    assert (found.first_bad_seq, found.reason) == (
        2,
        "its columns differ from what was hashed (altered or moved)",
    )


def test_checkpoints_catch_a_rewritten_tail_and_deleted_last_entries(
    tamper: Engine, signer: ledger.Signer
) -> None:
    fill(tamper, signer, 10, every=4)
    with Session(tamper) as session:
        assert [(c.from_seq, c.to_seq) for c in licenses.checkpoints(session)] == [(1, 4), (5, 8)]
    assert verdict(tamper, signer).ok
    # Rewrite entry 6 and re-hash everything after it: the chain alone looks sound again.
    with Session(tamper) as session:
        entries = list(licenses.iter_entries(session))
    prev = entries[4].hash
    for e in entries[5:]:
        body = e.body.replace(b'"change"', b'"renewal"') if e.seq == 6 else e.body
        new_hash = ledger.entry_hash(prev, body)
        with tamper.begin() as conn:
            conn.execute(
                text(
                    "UPDATE rights_ledger SET body=:b, prev_hash=:p, hash=:h, kind=:k WHERE seq=:s"
                ),
                {"b": body, "p": prev, "h": new_hash, "k": json.loads(body)["kind"], "s": e.seq},
            )
        prev = new_hash
    found = verdict(tamper, signer)
    assert (found.first_bad_seq, found.reason) == (
        5,
        "checkpoint 5..8: the entries it covers were rewritten",
    )


def test_deleting_checkpointed_last_entries_is_caught(
    tamper: Engine, signer: ledger.Signer
) -> None:
    fill(tamper, signer, 8, every=4)
    run_sql(tamper, "DELETE FROM rights_ledger WHERE seq >= 7")
    found = verdict(tamper, signer)
    assert (found.first_bad_seq, found.reason) == (
        5,
        "checkpoint 5..8: it covers entries up to 8, but the ledger ends at 6",
    )


def test_a_forged_checkpoint_signature_is_caught(tamper: Engine, signer: ledger.Signer) -> None:
    fill(tamper, signer, 4, every=4)
    run_sql(
        tamper,
        "UPDATE rights_ledger_checkpoints "
        "SET signature = overlay(signature placing '\\x00' from 1 for 1)",
    )
    found = verdict(tamper, signer)
    assert found.reason == "checkpoint 1..4: its signature does not verify"


def test_a_license_row_edited_behind_the_ledgers_back_is_named(
    engine: Engine, signer: ledger.Signer
) -> None:
    fill(engine, signer, 3)
    run_sql(engine, "UPDATE licenses SET ends_at = ends_at + interval '1 year'")
    found = verdict(engine, signer)
    assert (found.ok, found.first_bad_seq) == (False, 3)
    assert found.reason is not None and found.reason.endswith(
        "its stored row differs from ledger entry 3"
    )


def test_a_grant_whose_exclusivity_collides_with_another_brands_drops_it(
    engine: Engine, signer: ledger.Signer
) -> None:
    exclusive = {
        "exclusivity": ExclusivityTerm(category="Skin care", ends_at=NOW + timedelta(days=60))
    }
    first = snapshot(engine, **exclusive)
    assert record(engine, signer, first, "grant", "a", 1000).exclusivity_conflict is None
    rival = snapshot(engine, **exclusive).model_copy(update={"creator_id": first.creator_id})
    outcome = record(engine, signer, rival, "grant", "b", 1000)
    assert outcome.exclusivity_conflict == first.license_id
    with Session(engine) as session:
        row = licenses.get_license(session, rival.license_id)
        assert row is not None and row.exclusivity_category is None
        [entry] = licenses.license_entries(session, rival.license_id)
    detail = json.loads(entry.body)["data"]["detail"]
    assert detail["exclusivity_dropped"]["conflicts_with"] == str(first.license_id)


def test_the_cli_verifies_and_names_the_first_bad_entry(
    tamper: Engine,
    signer: ledger.Signer,
    settings: Settings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NEXUS_DATABASE__URL", database_url)
    monkeypatch.setenv(
        "NEXUS_LICENSING__LEDGER_SIGNING_KEY",
        settings.licensing.ledger_signing_key.get_secret_value(),
    )
    fill(tamper, signer, 5)
    assert cli.main(["ledger", "checkpoint"]) == 0
    made = json.loads(capsys.readouterr().out)["checkpoint"]
    assert (made["from_seq"], made["to_seq"]) == (1, 5)
    assert cli.main(["ledger", "verify"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert cli.main(["ledger", "verify", "--entry", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["in_signed_checkpoint"] is True

    run_sql(
        tamper,
        "UPDATE rights_ledger SET body = overlay(body placing 'Y' from 30 for 1) WHERE seq = 2",
    )
    assert cli.main(["ledger", "verify"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["first_bad_seq"]) == (False, 2)
    assert cli.main(["ledger", "verify", "--entry", "2"]) == 1
    assert json.loads(capsys.readouterr().out)["problem"] == (
        "its content does not match its hash (altered)"
    )
