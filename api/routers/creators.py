"""The creator directory brands invite from, and the page of a creator they work with."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from api.deps import DatabaseDep, Principal, allow
from api.routers.creator_profile import CreatorPage, ProfilePublic, portfolio_of
from api.schemas import CreatorPublic, Limit, Offset
from domain.enums import Role
from models import creators
from nexus.errors import NotFound

router = APIRouter(prefix="/creators", tags=["creators"])

Reader = Annotated[
    Principal, Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="campaigns:read"))
]


@router.get("")
async def search_creators(
    reader: Reader,
    db: DatabaseDep,
    niche: Annotated[str | None, Query(max_length=50)] = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[CreatorPublic]:
    rows = await db.run(
        lambda s: creators.search_profiles(
            s, niche=niche, country=country, limit=limit, offset=offset
        )
    )
    return [CreatorPublic.model_validate(p, from_attributes=True) for p in rows]


def _page(session: Session, workspace_id: uuid.UUID, creator_id: uuid.UUID) -> CreatorPage | None:
    profile = creators.get_profile(session, creator_id)
    if profile is None or not creators.known_to_workspace(session, workspace_id, creator_id):
        return None
    return CreatorPage(
        profile=ProfilePublic.model_validate(profile, from_attributes=True),
        portfolio=portfolio_of(session, creator_id, for_workspace=workspace_id),
    )


@router.get("/{creator_id}")
async def creator_page(creator_id: uuid.UUID, reader: Reader, db: DatabaseDep) -> CreatorPage:
    """Profile and portfolio of a creator who applied to, or was invited to, one of this
    workspace's campaigns; anyone else is not found."""
    page = await db.run(_page, reader.workspace_id, creator_id)
    if page is None:
        raise NotFound("no such creator")
    return page
