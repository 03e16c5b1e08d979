"""Agencies and their clients: a client is a brand workspace whose `managed_by` names the
agency workspace that runs it. Each client keeps its own members, brands, money and data, as
any brand workspace does; the agency's members act in it through their agency membership
(`workspaces.token_membership`), without being copied into it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.enums import WorkspaceKind
from models.brands import Brand
from models.workspaces import Membership, Workspace


@dataclass(frozen=True)
class Client:
    workspace_id: uuid.UUID
    name: str
    brands: list[str]
    members: int
    created_at: datetime


class NameTaken(Exception):
    """The agency has a client of that name already."""


def is_agency(session: Session, workspace_id: uuid.UUID) -> bool:
    workspace = session.get(Workspace, workspace_id)
    return workspace is not None and workspace.kind == WorkspaceKind.AGENCY


def agency_of(session: Session, workspace_id: uuid.UUID) -> Workspace | None:
    """The agency that manages the workspace, None for a workspace of its own."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None or workspace.managed_by is None:
        return None
    return session.get(Workspace, workspace.managed_by)


def _name_taken(session: Session, agency_id: uuid.UUID, name: str) -> bool:
    return (
        session.exec(
            select(Workspace.id).where(
                Workspace.managed_by == agency_id, func.lower(Workspace.name) == name.lower()
            )
        ).first()
        is not None
    )


def create_client(
    session: Session, agency_id: uuid.UUID, name: str, brand_name: str
) -> tuple[Workspace, Brand]:
    """A new client of the agency with its first brand. NameTaken (nothing written) when the
    agency has a client of that name, whatever its case."""
    workspace = session.exec(
        select(Workspace).where(Workspace.id == agency_id).with_for_update()
    ).one()
    assert workspace.kind == WorkspaceKind.AGENCY
    if _name_taken(session, agency_id, name):
        raise NameTaken(name)
    client = Workspace(name=name, kind=WorkspaceKind.BRAND, managed_by=agency_id)
    session.add(client)
    session.flush()
    brand = Brand(workspace_id=client.id, name=brand_name)
    session.add(brand)
    session.flush()
    return client, brand


def list_clients(session: Session, agency_id: uuid.UUID) -> list[Client]:
    """The agency's clients by name, with their brands and how many members of their own."""
    clients = session.exec(
        select(Workspace)
        .where(Workspace.managed_by == agency_id)
        .order_by(func.lower(Workspace.name))
    ).all()
    ids = [c.id for c in clients]
    brands: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    members: dict[uuid.UUID, int] = dict.fromkeys(ids, 0)
    if ids:
        for workspace_id, brand_name in session.exec(
            select(Brand.workspace_id, Brand.name)
            .where(col(Brand.workspace_id).in_(ids))
            .order_by(col(Brand.name))
        ).all():
            brands[workspace_id].append(brand_name)
        for workspace_id, count in session.exec(
            select(Membership.workspace_id, func.count())
            .where(col(Membership.workspace_id).in_(ids))
            .group_by(col(Membership.workspace_id))
        ).all():
            members[workspace_id] = count
    return [Client(c.id, c.name, brands[c.id], members[c.id], c.created_at) for c in clients]


@dataclass(frozen=True)
class ActingFor:
    """The workspace a person acts in, by name, for the portal's header."""

    name: str
    kind: WorkspaceKind
    # For a client, the name of its agency, when the person belongs to that agency (a
    # client's own members are not told which agency runs it).
    agency: str | None


def acting_for(session: Session, user_id: uuid.UUID, workspace_id: uuid.UUID) -> ActingFor | None:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        return None
    agency = None
    if workspace.managed_by is not None:
        in_agency = session.exec(
            select(Membership.id).where(
                Membership.user_id == user_id, Membership.workspace_id == workspace.managed_by
            )
        ).first()
        found = session.get(Workspace, workspace.managed_by) if in_agency else None
        agency = found.name if found is not None else None
    return ActingFor(workspace.name, workspace.kind, agency)
