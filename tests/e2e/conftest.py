"""The journeys reach the API as partners and the portal do: over HTTP, through the session's
gateway (nginx, ModSecurity and the OWASP Core Rule Set; tests/gateway.py), so a legitimate
payload the firewall would block fails here first."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from nexus.settings import Settings
from tests.gateway import Gateway, api_client


@pytest.fixture
async def http(
    settings: Settings,
    engine: Engine,
    client: Client,
    workers: list[Worker],
    front: Gateway | None,
) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(settings, engine, client, front) as found:
        yield found
