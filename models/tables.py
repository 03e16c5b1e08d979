"""Imports every table module so SQLModel.metadata is complete (migrations, test fixtures)."""

from sqlmodel import SQLModel

from models import (
    admin,
    applications,
    assets,
    audit,
    brands,
    campaigns,
    conversations,
    creators,
    deliveries,
    idempotency,
    invitations,
    licenses,
    moderation,
    money,
    notifications,
    social,
    uploads,
    workspaces,
)

metadata = SQLModel.metadata

__all__ = [
    "admin",
    "applications",
    "assets",
    "audit",
    "brands",
    "campaigns",
    "conversations",
    "creators",
    "deliveries",
    "idempotency",
    "invitations",
    "licenses",
    "metadata",
    "moderation",
    "money",
    "notifications",
    "social",
    "uploads",
    "workspaces",
]
