"""License certificates: built on the rights ledger's signed checkpoints, verified offline, and
every edit to one reported, never raised."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pypdf
import pytest

from activities.licensing import certificate
from domain import rights_ledger as ledger
from domain.enums import LicenseStatus
from domain.rights_ledger import StoredCheckpoint, StoredEntry
from tests.domain.chains import INTRUDER, LICENSES, SIGNER, T0, append, checkpoints, flip
from workflows.contracts.license import LicenseSnapshot, LicenseTerms

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


PARTIES = certificate.Parties(
    brand_name="Glow Co",
    workspace_name="Glow Co Marketing",
    creator_name="Ana Lima",
    creator_handle="analima",
    campaign_title="Spring glow launch",
    deliverable_format="video_9x16",
    price_minor=100_000,
    currency="USD",
)


def issue(
    signer: ledger.Signer = SIGNER,
    *,
    with_checkpoints: bool = True,
    parties: certificate.Parties | None = PARTIES,
) -> dict[str, Any]:
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
        parties=parties,
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


def edit_parties(doc: dict[str, Any]) -> None:
    doc["parties"]["brand_name"] = "Someone Else Ltd"


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
        (edit_parties, "the certificate's signature does not verify (altered or forged)"),
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


def test_the_pdf_names_the_parties_and_shows_money_and_terms_in_words() -> None:
    document = issue()
    text, attachments = pdf_of(document)
    assert "License certificate" in text
    lines = set(text.splitlines())
    for line in [
        "Licensee (brand) Glow Co, workspace Glow Co Marketing",
        "Licensor (creator) Ana Lima (@analima)",
        "Campaign Spring glow launch",
        "Agreed fee $1,000.00",
        "License fee $500.00",
        "Status Terminated (version 4)",
        "Term 1 January 2027 to 1 January 2028",
        "Channels Paid social ads, Organic social media",
        "Platforms TikTok",
        "Territories Canada, United States",
        "Exclusivity Not exclusive",
        f"License {LICENSE_ID}",
    ]:
        assert line in lines, (line, text)
    assert "Vertical video (9:16)" in text
    assert "1 January 2027: Renewed" in text
    # Identifiers and raw codes are for machines: the JSON, not the page.
    for raw in ("minor units", "paid_social", "00000000-0000-0000-0000-000000000002", "USD"):
        assert raw not in text
    assert list(attachments) == [f"license-{LICENSE_ID}.json"]
    (embedded,) = attachments[f"license-{LICENSE_ID}.json"]
    assert json.loads(embedded) == document
    assert json.loads(embedded)["parties"]["creator_handle"] == "analima"
    assert certificate.verify_certificate(json.loads(embedded)) == []


def test_a_fee_in_the_price_and_other_currencies_read_as_money() -> None:
    included = LicenseTerms.model_validate(TERMS.model_dump() | {"fee_minor": 0, "currency": "EUR"})
    entries: list[StoredEntry] = []
    append(
        entries,
        str(LICENSE_ID),
        "grant",
        {"license": snapshot(1, LicenseStatus.ACTIVE, included), "detail": {}},
    )
    euros = dataclasses.replace(PARTIES, price_minor=123_456, currency="EUR")
    document = certificate.build(
        license_id=str(LICENSE_ID),
        entries=entries,
        checkpoints=[],
        issued_at="2027-06-01T00:00:00+00:00",
        signer=SIGNER,
        parties=euros,
    )
    text, _ = pdf_of(document)
    assert "Agreed fee €1,234.56" in text
    assert "License fee Included in the price" in text


def test_a_certificate_issued_before_it_named_the_parties_still_prints() -> None:
    text, _ = pdf_of(issue(parties=None))
    assert "Licensee (brand) brand 00000000-0000-0000-0000-000000000002" in text
    assert "Agreed fee as agreed in the campaign" in text


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
        parties=PARTIES,
    )
    text, attachments = pdf_of(document)
    assert "From 1 January 2027, perpetual (the creator consented to perpetual use)" in text
    assert "für Männer until 1 April 2027" in text
    (embedded,) = attachments[f"license-{LICENSE_ID}.json"]
    assert json.loads(embedded)["license"]["terms"]["exclusivity"]["category"] == (
        "スキンケア für Männer"
    )
