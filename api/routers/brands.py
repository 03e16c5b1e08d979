"""Brands of the caller's workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlmodel import Session

from api.deps import DatabaseDep, Principal, allow
from api.schemas import BrandCreate, BrandPublic
from domain.enums import Role
from models import brands
from models.brands import Brand

router = APIRouter(prefix="/brands", tags=["brands"])

Reader = Annotated[
    Principal, Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER, scope="campaigns:read"))
]
Admin = Annotated[Principal, Depends(allow(Role.BRAND_ADMIN))]


@router.get("")
async def list_brands(reader: Reader, db: DatabaseDep) -> list[BrandPublic]:
    rows = await db.run(brands.list_brands, reader.workspace_id)
    return [BrandPublic.model_validate(b, from_attributes=True) for b in rows]


@router.post("", status_code=201)
async def create_brand(body: BrandCreate, admin: Admin, db: DatabaseDep) -> BrandPublic:
    def store(session: Session) -> Brand:
        brand = Brand(workspace_id=admin.workspace_id, name=body.name, website=body.website)
        session.add(brand)
        session.flush()
        return brand

    return BrandPublic.model_validate(await db.run(store), from_attributes=True)
