"""Contracts of the child-safety hash list sync (HashListSyncWorkflow)."""

from __future__ import annotations

from pydantic import BaseModel


class HashListSynced(BaseModel):
    """A list written from its source: how many hashes it holds now, and where."""

    name: str
    pdq: int
    md5: int
    path: str
