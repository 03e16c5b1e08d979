"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
Headers = dict[str, str]
# Passes the automated caption checks for briefs that mention "Glow serum 30 ml".
GOOD_CAPTION = "#ad Paid partnership with Glow: my morning routine with Glow serum 30 ml"


async def until(check: Callable[[], Awaitable[T]], *, timeout_s: float = 15) -> T:
    """Poll `check` until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()
