"""`nexus ledger ...`: verify the rights ledger (whole chain, one license, one entry), write a
checkpoint now, and verify a downloaded license certificate offline. Answers are JSON lines;
the exit status is 1 when anything fails verification."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from nexus.settings import Settings


def add_parser(sub: Any) -> None:
    ledger_cmd = sub.add_parser("ledger", help="verify the rights ledger and license certificates")
    actions = ledger_cmd.add_subparsers(dest="ledger_command", required=True)
    verify = actions.add_parser("verify", help="verify the whole chain (or one license / entry)")
    which = verify.add_mutually_exclusive_group()
    which.add_argument("--license", type=uuid.UUID, help="only this license's entries")
    which.add_argument("--entry", type=int, help="only this entry, with its Merkle proof")
    actions.add_parser("checkpoint", help="sign a checkpoint over the entries not yet covered")
    cert = actions.add_parser("verify-certificate", help="verify a certificate JSON offline")
    cert.add_argument("file", type=Path)
    cert.add_argument(
        "--public-key",
        help="hex Ed25519 key to trust (GET /ledger/public-key); default: this deployment's key",
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    from domain import rights_ledger as ledger

    if args.ledger_command == "verify-certificate":
        # Pinned by default: a certificate re-signed with some other key must not pass.
        default_key = ledger.Signer(settings.licensing.signing_seed()).public_key.hex()
        return _verify_certificate(args.file, args.public_key or default_key)
    from models import licenses
    from models.db import make_engine, session_scope

    signer = ledger.Signer(settings.licensing.signing_seed())
    engine = make_engine(settings.database)
    with session_scope(engine) as session:
        if args.ledger_command == "checkpoint":
            made = licenses.make_checkpoint(session, signer)
            if made is None:
                return _emit({"checkpoint": None, "reason": "no entries to cover"}, ok=True)
            return _emit({"checkpoint": json.loads(made.body), "hash": made.hash.hex()}, ok=True)
        if args.license is not None:
            entries = licenses.license_entries(session, args.license)
            problems = {e.seq: ledger.entry_problem(e) for e in entries}
            bad = {seq: p for seq, p in problems.items() if p}
            return _emit(
                {"license_id": str(args.license), "entries": len(entries), "problems": bad},
                ok=bool(entries) and not bad,
            )
        if args.entry is not None:
            entry = licenses.entry_at(session, args.entry)
            if entry is None:
                return _emit({"seq": args.entry, "problem": "no such entry"}, ok=False)
            problem = ledger.entry_problem(entry)
            proven = licenses.proven_checkpoints(session, [entry.seq])
            included = None
            for checkpoint, paths in proven:
                seq, path = paths[0]
                statement = json.loads(checkpoint.body)
                included = ledger.verify_inclusion(
                    ledger.leaf_hash(entry.hash),
                    seq - checkpoint.from_seq,
                    checkpoint.to_seq - checkpoint.from_seq + 1,
                    path,
                    bytes.fromhex(statement["merkle_root"]),
                )
            return _emit(
                {"seq": entry.seq, "problem": problem, "in_signed_checkpoint": included},
                ok=problem is None and included is not False,
            )
        verdict = licenses.verify(session, {signer.key_id: signer.public_key})
        return _emit(verdict.as_dict(), ok=verdict.ok)


def _verify_certificate(path: Path, public_key: str) -> int:
    from activities.licensing.certificate import verify_certificate

    try:
        document = json.loads(path.read_text())
        trusted = bytes.fromhex(public_key)
    except (OSError, ValueError) as exc:
        print(f"nexus: cannot read the certificate: {exc}", file=sys.stderr)
        return 2
    problems = verify_certificate(document, trusted_public_key=trusted)
    return _emit(
        {
            "license_id": document.get("license_id"),
            "problems": problems,
            "key_pinned": bool(trusted),
        },
        ok=not problems,
    )


def _emit(result: dict[str, Any], *, ok: bool) -> int:
    print(json.dumps({"ok": ok, **result}))
    return 0 if ok else 1
