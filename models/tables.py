"""Imports every table module so SQLModel.metadata is complete (migrations, test fixtures)."""

from sqlmodel import SQLModel

from models import (
    applications,
    assets,
    brands,
    campaigns,
    creators,
    deliveries,
    invitations,
    licenses,
    moderation,
    money,
    notifications,
    uploads,
    workspaces,
)

metadata = SQLModel.metadata

__all__ = [
    "applications",
    "assets",
    "brands",
    "campaigns",
    "creators",
    "deliveries",
    "invitations",
    "licenses",
    "metadata",
    "moderation",
    "money",
    "notifications",
    "uploads",
    "workspaces",
]
