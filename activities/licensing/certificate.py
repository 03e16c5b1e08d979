"""License certificates: a signed JSON document anyone can verify offline, and its PDF.

The JSON carries the license's ledger entries exactly as hashed, the signed checkpoints that
cover them with Merkle inclusion proofs, and an Ed25519 signature over the whole document.
`verify_certificate` needs nothing but the document (and, to pin it, the ledger's public key
from GET /ledger/public-key). The PDF is the human-readable form: it prints the terms and the
JSON's digest, and embeds the JSON as an attachment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fpdf import FPDF

from domain import rights_ledger as ledger

CERTIFICATE_TYPE = "nexus.license-certificate"


@dataclass(frozen=True)
class CoveredEntry:
    """A license entry inside a checkpoint: its leaf position and audit path."""

    seq: int
    proof: list[bytes]


@dataclass(frozen=True)
class ProvenCheckpoint:
    checkpoint: ledger.StoredCheckpoint
    entries: list[CoveredEntry]


def build(
    *,
    license_id: str,
    entries: Sequence[ledger.StoredEntry],
    checkpoints: Sequence[ProvenCheckpoint],
    issued_at: str,
    signer: ledger.Signer,
) -> dict[str, Any]:
    """The signed certificate of a license from its ledger entries (oldest first)."""
    latest = json.loads(entries[-1].body)["data"]["license"]
    document: dict[str, Any] = {
        "type": CERTIFICATE_TYPE,
        "v": ledger.FORMAT_VERSION,
        "license_id": license_id,
        "license": latest,
        "entries": [
            {
                "seq": e.seq,
                "body": e.body.decode(),
                "prev_hash": e.prev_hash.hex(),
                "hash": e.hash.hex(),
            }
            for e in entries
        ],
        "checkpoints": [
            {
                "statement": p.checkpoint.body.decode(),
                "hash": p.checkpoint.hash.hex(),
                "signature": p.checkpoint.signature.hex(),
                "proofs": [{"seq": c.seq, "path": [h.hex() for h in c.proof]} for c in p.entries],
            }
            for p in checkpoints
        ],
        "issued_at": issued_at,
        "key_id": signer.key_id,
        "public_key": signer.public_key.hex(),
    }
    document["signature"] = signer.sign(ledger.canonical(document)).hex()
    return document


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(ledger.canonical(document)).hexdigest()


def verify_certificate(
    document: dict[str, Any], *, trusted_public_key: bytes | None = None
) -> list[str]:
    """Every problem found; an empty list means the certificate is genuine and consistent."""
    try:
        return _problems(document, trusted_public_key)
    except (KeyError, TypeError, ValueError) as exc:
        return [f"malformed certificate: {exc!r}"]


def _problems(document: dict[str, Any], trusted: bytes | None) -> list[str]:
    problems: list[str] = []
    if document.get("type") != CERTIFICATE_TYPE:
        return ["not a NEXUS license certificate"]
    public_key = bytes.fromhex(document["public_key"])
    if trusted is not None and public_key != trusted:
        problems.append("signed with a key other than the trusted ledger key")
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    if not ledger.signature_valid(
        public_key, bytes.fromhex(document["signature"]), ledger.canonical(unsigned)
    ):
        problems.append("the certificate's signature does not verify (altered or forged)")
    hashes: dict[int, bytes] = {}
    last_seq = 0
    for item in document["entries"]:
        entry = ledger.StoredEntry(
            seq=item["seq"],
            license_id=document["license_id"],
            kind=json.loads(item["body"]).get("kind", ""),
            body=item["body"].encode(),
            prev_hash=bytes.fromhex(item["prev_hash"]),
            hash=bytes.fromhex(item["hash"]),
        )
        problem = ledger.entry_problem(entry)
        if problem is not None:
            problems.append(f"ledger entry {entry.seq}: {problem}")
        if entry.seq <= last_seq:
            problems.append(f"ledger entry {entry.seq} is out of order")
        last_seq = entry.seq
        hashes[entry.seq] = entry.hash
    if document["entries"]:
        latest = json.loads(document["entries"][-1]["body"])["data"]["license"]
        if latest != document["license"]:
            problems.append("the license terms differ from its latest ledger entry")
    for item in document["checkpoints"]:
        problems.extend(_checkpoint_problems(item, public_key, hashes))
    return problems


def _checkpoint_problems(
    item: dict[str, Any], public_key: bytes, hashes: dict[int, bytes]
) -> list[str]:
    statement = json.loads(item["statement"])
    label = f"checkpoint {statement['from_seq']}..{statement['to_seq']}"
    if not ledger.signature_valid(
        public_key, bytes.fromhex(item["signature"]), item["statement"].encode()
    ):
        return [f"{label}: its signature does not verify"]
    problems = []
    if ledger.checkpoint_hash(item["statement"].encode()).hex() != item["hash"]:
        problems.append(f"{label}: its hash does not match its statement")
    covered = {seq for seq in hashes if statement["from_seq"] <= seq <= statement["to_seq"]}
    if covered != {proof["seq"] for proof in item["proofs"]}:
        problems.append(f"{label}: the entries it covers and their proofs do not match")
    root = bytes.fromhex(statement["merkle_root"])
    size = statement["to_seq"] - statement["from_seq"] + 1
    for proof in item["proofs"]:
        seq = proof["seq"]
        leaf = ledger.leaf_hash(hashes.get(seq, b""))
        path = [bytes.fromhex(h) for h in proof["path"]]
        if not ledger.verify_inclusion(leaf, seq - statement["from_seq"], size, path, root):
            problems.append(f"{label}: entry {seq} is not in the signed tree")
    return problems


# -- the PDF ----------------------------------------------------------------------------------


def render_pdf(document: dict[str, Any]) -> bytes:
    lic = document["license"]
    terms = lic["terms"]
    pdf = FPDF(format="A4")
    pdf.set_title(f"License certificate {document['license_id']}")
    pdf.set_creator("NEXUS rights ledger")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "License certificate", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    exclusivity = terms.get("exclusivity")
    rows = [
        ("License", document["license_id"]),
        ("Status", f"{lic['status']} (version {lic['version']})"),
        ("Asset", lic["asset_id"]),
        ("Licensee (brand)", lic["brand_id"]),
        ("Licensor (creator)", lic["creator_id"]),
        ("Channels", ", ".join(terms["channels"])),
        ("Platforms", ", ".join(terms["platforms"]) or "any"),
        ("Territories", ", ".join(terms["territories"])),
        ("Starts", terms["starts_at"]),
        ("Ends", terms["ends_at"] or "perpetual (consented by the creator)"),
        (
            "Exclusivity",
            f"{exclusivity['category']} until {exclusivity['ends_at']}" if exclusivity else "none",
        ),
        ("Modification", terms["modification"]),
        ("Attribution", "required" if terms["attribution"] else "not required"),
        ("Fee", f"{terms['fee_minor']} {terms['currency']} (minor units)"),
    ]
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 6, label)
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 6, _latin1(str(value)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Rights ledger history", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", size=8)
    for item in document["entries"]:
        body = json.loads(item["body"])
        line = f"#{item['seq']:<7} {body['kind']:<17} {body['recorded_at'][:19]}  {item['hash']}"
        pdf.multi_cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(
        0,
        5,
        f"Certificate digest (SHA-256 of the signed JSON): {digest(document)}\n"
        f"Signed by ledger key {document['key_id']}, issued {document['issued_at']}.\n"
        "The signed JSON is attached to this PDF. Verify it offline with "
        "`nexus ledger verify-certificate <file>.json` or with the public key from "
        "GET /ledger/public-key.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.embed_file(
        basename=f"license-{document['license_id']}.json",
        bytes=json.dumps(document, indent=2).encode(),
        desc="Signed license certificate",
    )
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The core PDF fonts are Latin-1; anything else is shown as '?', never an error.
    return text.encode("latin-1", "replace").decode("latin-1")
