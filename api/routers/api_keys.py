"""Partner API keys, managed by brand admins of the workspace."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlmodel import Session

from api.deps import DatabaseDep, Principal, allow
from api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic
from api.security import generate_api_key
from domain.enums import Role
from models import workspaces
from models.workspaces import ApiKey
from nexus.errors import NotFound

router = APIRouter(prefix="/api-keys", tags=["api keys"])

Admin = Annotated[Principal, Depends(allow(Role.BRAND_ADMIN))]


def _public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(key, from_attributes=True)


@router.post("", status_code=201)
async def create_api_key(body: ApiKeyCreate, admin: Admin, db: DatabaseDep) -> ApiKeyCreated:
    new = generate_api_key()

    def store(session: Session) -> ApiKey:
        key = ApiKey(
            workspace_id=admin.workspace_id,
            name=body.name,
            prefix=new.prefix,
            secret_hash=new.secret_hash,
            scopes=sorted(set(body.scopes)),
            created_by=admin.actor_id,
        )
        session.add(key)
        session.flush()
        return key

    key = await db.run(store)
    return ApiKeyCreated(**_public(key).model_dump(), key=new.plaintext)


@router.get("")
async def list_api_keys(admin: Admin, db: DatabaseDep) -> list[ApiKeyPublic]:
    keys = await db.run(workspaces.list_api_keys, admin.workspace_id)
    return [_public(k) for k in keys]


@router.delete("/{key_id}", status_code=204)
async def revoke_api_key(key_id: uuid.UUID, admin: Admin, db: DatabaseDep) -> Response:
    if await db.run(workspaces.revoke_api_key, admin.workspace_id, key_id) is None:
        raise NotFound("no such API key in this workspace")
    return Response(status_code=204)
