"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.media import sponsored_clip

T = TypeVar("T")
Headers = dict[str, str]
# Passes the automated caption checks for briefs that mention "Glow serum 30 ml".
GOOD_CAPTION = "#ad Paid partnership with Glow: my morning routine with Glow serum 30 ml"


async def until(check: Callable[[], Awaitable[T]], *, timeout_s: float = 60) -> T:
    """Poll `check` until it returns something truthy (the time allowed is for a machine busy
    with the rest of the suite; a passing check returns as soon as it holds)."""
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


async def upload(
    http: httpx.AsyncClient, headers: Headers, clip: Path, content_type: str = "video/mp4"
) -> str:
    """Upload a video (or photo) the way a creator does (`POST /uploads`, then the bytes);
    its key."""
    content = await asyncio.to_thread(clip.read_bytes)
    ticket = ok(
        await http.post(
            "/uploads",
            json={
                "filename": clip.name,
                "content_type": content_type,
                "size_bytes": len(content),
            },
            headers=headers,
        ),
        201,
    )
    [url] = ticket["urls"]
    ok(await http.put(url, content=content, headers=headers), 201)
    return str(ticket["key"])


async def draft_body(
    http: httpx.AsyncClient, headers: Headers, caption: str = GOOD_CAPTION
) -> dict[str, str]:
    """A draft submission of a freshly uploaded clip that passes the automated checks."""
    return {"media_key": await upload(http, headers, sponsored_clip()), "caption": caption}
