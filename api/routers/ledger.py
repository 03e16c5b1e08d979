"""The rights ledger: verify the whole chain (ops), one entry with its Merkle proof (the
parties of its license), the signed checkpoints and the public key (anyone)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Path
from sqlmodel import Session

from api.deps import DatabaseDep, SettingsDep
from api.routers.licenses import Ops, Reader, entry_public, visible_license
from api.schemas import LedgerEntryProof, ProofPublic, PublicKeyPublic, VerdictPublic
from domain import rights_ledger as ledger
from models import licenses
from nexus.errors import NotFound

router = APIRouter(prefix="/ledger", tags=["ledger"])
# Sequence numbers are PostgreSQL bigints.
MAX_SEQ = 2**63 - 1


def _signer(settings: SettingsDep) -> ledger.Signer:
    return ledger.Signer(settings.licensing.signing_seed())


@router.get("/public-key")
async def public_key(settings: SettingsDep) -> PublicKeyPublic:
    """The key that signs checkpoints and certificates; pin it to verify offline."""
    signer = _signer(settings)
    return PublicKeyPublic(key_id=signer.key_id, public_key=signer.public_key.hex())


@router.get("/verify")
async def verify(principal: Ops, db: DatabaseDep, settings: SettingsDep) -> VerdictPublic:
    """Walk the whole chain and every checkpoint; names the first bad entry."""
    signer = _signer(settings)
    verdict = await db.run(licenses.verify, {signer.key_id: signer.public_key})
    return VerdictPublic.model_validate(verdict.as_dict())


def _entry_with_proof(session: Session, seq: int) -> tuple[uuid.UUID, LedgerEntryProof] | None:
    entry = licenses.entry_at(session, seq)
    if entry is None:
        return None
    proof = None
    for checkpoint, paths in licenses.proven_checkpoints(session, [seq]):
        statement = json.loads(checkpoint.body)
        size = checkpoint.to_seq - checkpoint.from_seq + 1
        index = seq - checkpoint.from_seq
        path = paths[0][1]
        proof = ProofPublic(
            checkpoint=statement,
            checkpoint_hash=checkpoint.hash.hex(),
            signature=checkpoint.signature.hex(),
            leaf_index=index,
            tree_size=size,
            path=[h.hex() for h in path],
            valid=ledger.verify_inclusion(
                ledger.leaf_hash(entry.hash),
                index,
                size,
                path,
                bytes.fromhex(statement["merkle_root"]),
            ),
        )
    return uuid.UUID(entry.license_id), LedgerEntryProof(
        **entry_public(entry).model_dump(), proof=proof
    )


@router.get("/entries/{seq}")
async def entry(
    seq: Annotated[int, Path(ge=1, le=MAX_SEQ)], principal: Reader, db: DatabaseDep
) -> LedgerEntryProof:
    """One entry, checked against its hash, with its inclusion proof once checkpointed."""
    found = await db.run(_entry_with_proof, seq)
    if found is None:
        raise NotFound("no such ledger entry")
    license_id, public = found
    try:
        await visible_license(db, principal, license_id)
    except NotFound as exc:
        raise NotFound("no such ledger entry") from exc
    return public
