"""The creator directory brands invite from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import DatabaseDep, Principal, allow
from api.schemas import CreatorPublic
from models import creators
from models.enums import Role

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
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CreatorPublic]:
    rows = await db.run(
        lambda s: creators.search_profiles(
            s, niche=niche, country=country, limit=limit, offset=offset
        )
    )
    return [CreatorPublic.model_validate(p, from_attributes=True) for p in rows]
