"""The demo workspace `make up` seeds: one brand workspace, a few creators, an ops user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from domain.enums import Role, WorkspaceKind
from models.base import utcnow
from models.brands import Brand
from models.creators import CreatorProfile
from models.workspaces import Membership, User, Workspace, find_user_by_email

DEMO_PASSWORD = "nexus-demo-2026"  # noqa: S105 - development-only demo credentials


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role


_CREATORS = (
    ("maya@creators.demo", "Maya Lin", "mayamakes", "US", ["beauty", "skincare"]),
    ("tom@creators.demo", "Tom Okafor", "tomtries", "GB", ["fitness", "food"]),
    ("ines@creators.demo", "Inès Duval", "inesfilms", "FR", ["travel", "lifestyle"]),
)


def seed_demo(session: Session, hash_password: Callable[[str], str]) -> list[DemoLogin]:
    """Create the demo data unless it exists; return the logins (idempotent)."""
    logins = [
        DemoLogin("admin@glow.demo", Role.BRAND_ADMIN),
        DemoLogin("member@glow.demo", Role.BRAND_MEMBER),
        DemoLogin("ops@nexus.demo", Role.OPS),
        *(DemoLogin(c[0], Role.CREATOR) for c in _CREATORS),
    ]
    if find_user_by_email(session, "admin@glow.demo") is not None:
        return logins
    password_hash = hash_password(DEMO_PASSWORD)

    def member(workspace: Workspace, email: str, name: str, role: Role) -> User:
        user = User(email=email, name=name, password_hash=password_hash, email_verified_at=utcnow())
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, workspace_id=workspace.id, role=role))
        return user

    brand_ws = Workspace(name="Glow Skincare Co", kind=WorkspaceKind.BRAND)
    ops_ws = Workspace(name="NEXUS Operations", kind=WorkspaceKind.OPS)
    session.add_all([brand_ws, ops_ws])
    session.flush()
    session.add(
        Brand(workspace_id=brand_ws.id, name="Glow Skincare", website="https://glow.example")
    )
    member(brand_ws, "admin@glow.demo", "Ada Admin", Role.BRAND_ADMIN)
    member(brand_ws, "member@glow.demo", "Ben Member", Role.BRAND_MEMBER)
    member(ops_ws, "ops@nexus.demo", "Olu Ops", Role.OPS)
    for email, name, handle, country, niches in _CREATORS:
        creator_ws = Workspace(name=f"{name} (creator)", kind=WorkspaceKind.CREATOR)
        session.add(creator_ws)
        session.flush()
        user = member(creator_ws, email, name, Role.CREATOR)
        session.add(
            CreatorProfile(
                user_id=user.id,
                workspace_id=creator_ws.id,
                handle=handle,
                display_name=name,
                country=country,
                niches=niches,
                platforms=["tiktok", "instagram"],
            )
        )
    return logins
