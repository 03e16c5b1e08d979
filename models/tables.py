"""Imports every table module so SQLModel.metadata is complete (migrations, test fixtures)."""

from sqlmodel import SQLModel

from models import assets, brands, campaigns, creators, workspaces

metadata = SQLModel.metadata

__all__ = ["assets", "brands", "campaigns", "creators", "metadata", "workspaces"]
