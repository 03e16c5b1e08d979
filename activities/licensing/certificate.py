"""License certificates: a signed JSON document anyone can verify offline, and its PDF.

The JSON carries the license's ledger entries exactly as hashed, the signed checkpoints that
cover them with Merkle inclusion proofs, and an Ed25519 signature over the whole document.
`verify_certificate` needs nothing but the document (and, to pin it, the ledger's public key
from GET /ledger/public-key). The document also names the parties, the campaign, the asset
and the agreed fee as they stood when it was issued (`parties`, covered by the signature;
the ledger itself records only identifiers). The PDF is the human-readable form: it prints
the parties and terms in words and the JSON's digest, and embeds the JSON as an attachment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fpdf import FPDF

from domain import license_words, words
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


@dataclass(frozen=True)
class Parties:
    """Who and what a license is about, by name, when the certificate is issued."""

    brand_name: str
    workspace_name: str
    creator_name: str
    creator_handle: str
    campaign_title: str
    deliverable_format: str | None  # the deliverable's format code (video_9x16, ...)
    price_minor: int | None  # the delivery's agreed price
    currency: str


def build(
    *,
    license_id: str,
    entries: Sequence[ledger.StoredEntry],
    checkpoints: Sequence[ProvenCheckpoint],
    issued_at: str,
    signer: ledger.Signer,
    parties: Parties | None = None,
) -> dict[str, Any]:
    """The signed certificate of a license from its ledger entries (oldest first), naming
    the parties when they are given."""
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
        **({"parties": asdict(parties)} if parties is not None else {}),
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


def _named(document: dict[str, Any]) -> Parties:
    """The document's parties; a certificate issued before it named them shows identifiers."""
    lic = document["license"]
    found = document.get("parties")
    if isinstance(found, dict):
        return Parties(**found)
    return Parties(
        brand_name=f"brand {lic['brand_id']}", workspace_name=f"workspace {lic['workspace_id']}",
        creator_name=f"creator {lic['creator_id']}", creator_handle="",
        campaign_title=f"campaign {lic['campaign_id']}", deliverable_format=None,
        price_minor=None, currency=lic["terms"]["currency"],
    )  # fmt: skip


def sections(
    status: str, version: int, terms: dict[str, Any], named: Parties
) -> list[tuple[str, list[tuple[str, str]]]]:
    """A license's parties, asset and terms in words: sections of (label, value) rows, as
    the certificate prints them and the portal shows them."""
    handle = f" (@{named.creator_handle})" if named.creator_handle else ""
    agreed = (
        words.money(named.price_minor, named.currency)
        if named.price_minor is not None
        else "as agreed in the campaign"
    )
    asset = (
        f"{license_words.deliverable_format(named.deliverable_format)}: the draft "
        f"{named.brand_name} approved from {named.creator_name}'s delivery"
    )
    return [
        ("Parties", [
            ("Licensee (brand)", f"{named.brand_name}, workspace {named.workspace_name}"),
            ("Licensor (creator)", f"{named.creator_name}{handle}"),
        ]),
        ("What is licensed", [
            ("Campaign", named.campaign_title),
            ("Asset", asset),
            ("Agreed fee", agreed),
            ("License fee", license_words.license_fee(terms)),
        ]),
        ("Terms", [
            ("Status", f"{license_words.status(status)} (version {version})"),
            ("Term", license_words.term(terms)),
            ("Channels", license_words.channels(terms["channels"])),
            ("Platforms", license_words.platforms(terms["platforms"])),
            ("Territories", license_words.territories(terms["territories"])),
            ("Exclusivity", license_words.exclusivity(terms)),
            ("Modification", license_words.modification(terms["modification"])),
            ("Attribution", license_words.attribution(terms["attribution"])),
        ]),
    ]  # fmt: skip


def summary_rows(document: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The certificate's sections, in words, and its reference."""
    lic = document["license"]
    reference = [
        ("License", document["license_id"]),
        ("Issued", words.day(document["issued_at"])),
    ]
    found = sections(lic["status"], lic["version"], lic["terms"], _named(document))
    return [*found, ("Reference", reference)]


def _history_line(item: dict[str, Any], currency: str) -> str:
    body = json.loads(item["body"])
    fee = int(body.get("data", {}).get("detail", {}).get("fee_minor") or 0)
    extra = f", extra fee {words.money(fee, currency)}" if fee else ""
    return f"{words.day(body['recorded_at'])}: {license_words.event(body['kind'])}{extra}"


def render_pdf(document: dict[str, Any]) -> bytes:
    lic = document["license"]
    named = _named(document)
    pdf = FPDF(format="A4")
    # Windows-1252 for the core fonts: the euro sign and typographic quotes print.
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(_text(f"License certificate: {named.campaign_title}"))
    pdf.set_creator("NEXUS rights ledger")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, "License certificate", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(
        0, 6,
        _text(f"{named.creator_name} grants {named.brand_name} the right to use the video "
              f"made for \u201c{named.campaign_title}\u201d on the terms below."),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    for heading, rows in summary_rows(document):
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        for label, value in rows:
            pdf.set_font("Helvetica", "B", 10)
            pdf.cell(45, 6, label)
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(0, 6, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Rights ledger history", new_x="LMARGIN", new_y="NEXT")
    currency = lic["terms"]["currency"]
    for item in document["entries"]:
        pdf.set_font("Helvetica", size=10)
        pdf.multi_cell(0, 5, _text(_history_line(item, currency)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Courier", size=7)
        pdf.multi_cell(
            0, 4, f"entry #{item['seq']}, hash {item['hash']}", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(4)
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(
        0,
        4,
        f"Certificate digest (SHA-256 of the signed JSON): {digest(document)}\n"
        f"Signed by ledger key {document['key_id']}, issued {_issued(document['issued_at'])}.\n"
        "The signed JSON is attached to this PDF. Verify it offline with "
        "`nexus ledger verify-certificate <file>.json` or with the public key from "
        "GET /ledger/public-key.",
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
    )
    pdf.embed_file(
        basename=f"license-{document['license_id']}.json",
        bytes=json.dumps(document, indent=2).encode(),
        desc="Signed license certificate",
    )
    return bytes(pdf.output())


def _issued(at: str) -> str:
    return words.day_and_time(at)


def _text(text: str) -> str:
    # The core PDF fonts cover Windows-1252; anything else is shown as '?', never an error.
    return text.encode("windows-1252", "replace").decode("windows-1252")
