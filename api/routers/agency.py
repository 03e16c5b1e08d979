"""An agency's clients: brand workspaces the agency runs, each with its own members, brands,
money and data. The agency's admins create them; its members act in any of them with their
agency role (switching to it with `POST /auth/switch`), unless the client made them members
of its own, whose role then counts. A client's own members see only their client."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.deps import DatabaseDep, Principal, allow
from api.schemas import Request
from api.text import LINE
from domain.enums import Role
from models import agencies
from models.agencies import Client, NameTaken
from nexus.errors import Conflict, FieldProblem, Forbidden

router = APIRouter(prefix="/agency", tags=["agency"])

Reader = Annotated[Principal, Depends(allow(Role.BRAND_ADMIN, Role.BRAND_MEMBER))]
Admin = Annotated[Principal, Depends(allow(Role.BRAND_ADMIN))]

Name = Annotated[str, Field(min_length=1, max_length=200), LINE]

NOT_AN_AGENCY = (
    "Only an agency workspace has clients: switch to your agency's workspace to see them."
)


class ClientCreate(Request):
    name: Name = Field(description="The client's name, as the agency's people know it")
    brand_name: Name = Field(description="The client's first brand")


class ClientPublic(BaseModel):
    workspace_id: uuid.UUID
    name: str
    brands: list[str]
    # People who are members of the client itself (the agency's members are not counted).
    members: int
    created_at: datetime


class ClientNameTaken(Conflict):
    title = "Client name taken"
    type_slug = "client-name-taken"

    def __init__(self, name: str) -> None:
        reason = f"Your agency has a client named {name} already."
        super().__init__(reason, errors=[FieldProblem("body.name", reason)])


class NotAnAgency(Forbidden):
    title = "Not an agency"
    type_slug = "not-an-agency"

    def __init__(self) -> None:
        super().__init__(NOT_AN_AGENCY)


def _public(client: Client) -> ClientPublic:
    return ClientPublic(
        workspace_id=client.workspace_id, name=client.name, brands=client.brands,
        members=client.members, created_at=client.created_at,
    )  # fmt: skip


async def _require_agency(db: DatabaseDep, principal: Principal) -> None:
    if not await db.read(agencies.is_agency, principal.workspace_id):
        raise NotAnAgency()


@router.get("/clients")
async def list_clients(reader: Reader, db: DatabaseDep) -> list[ClientPublic]:
    """The agency's clients, by name."""
    await _require_agency(db, reader)
    return [_public(c) for c in await db.read(agencies.list_clients, reader.workspace_id)]


def _create(session: Session, agency_id: uuid.UUID, body: ClientCreate) -> Client | None:
    try:
        client, brand = agencies.create_client(session, agency_id, body.name, body.brand_name)
    except NameTaken:
        return None
    return Client(client.id, client.name, [brand.name], 0, client.created_at)


async def create(db: DatabaseDep, admin: Principal, body: ClientCreate) -> ClientPublic:
    """For the API and the portal alike: NotAnAgency, ClientNameTaken, or the new client."""
    await _require_agency(db, admin)
    client = await db.run(_create, admin.workspace_id, body)
    if client is None:
        raise ClientNameTaken(body.name)
    return _public(client)


@router.post("/clients", status_code=201)
async def create_client(body: ClientCreate, admin: Admin, db: DatabaseDep) -> ClientPublic:
    """A new client of the agency with its first brand. The agency's members act in it
    at once; it has no members of its own until its admin (an agency admin acting in it)
    invites them."""
    return await create(db, admin, body)
