"""A photo deliverable through the moderation pipeline, as its creator and brand use it: the
photo draft is checked (its hash, the nudity detector, on-image text, the caption) and shown
to the brand as its own upright JPEG without the phone's metadata; a final file that is not
a photo is stopped and sent back; a photo on a child-safety list ends the delivery."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import Engine
from sqlmodel import Session

from integrations.child_safety import self_test_image
from integrations.storage import ObjectNotFound, store_from_settings
from models.moderation import escalations
from nexus.settings import Settings
from tests.activities.test_photo import phone_photo
from tests.api.delivery_support import Started, started_delivery
from tests.api.test_portal import sign_in
from tests.e2e.support import GOOD_CAPTION, ok, until, upload
from tests.media import sponsored_clip

PHOTO = {"format": "photo", "duration_s": None}


async def submitted(http: httpx.AsyncClient, s: Started, kind: str, count: int) -> dict[str, Any]:
    """The delivery once its `count`-th submission of `kind` has its checks' answer."""

    async def checked() -> bool:
        found = [x for x in (await s.read(http))["submissions"] if x["kind"] == kind]
        return len(found) == count and found[-1]["checks_passed"] is not None

    await until(checked)
    return await s.read(http)


async def test_a_photo_draft_is_checked_and_shown_and_a_final_that_is_no_photo_goes_back(
    http: httpx.AsyncClient, engine: Engine, tmp_path: Path
) -> None:
    s = await started_delivery(http, engine, deliverable=PHOTO)
    await sign_in(http, s.creator.tenant)
    task = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert "Draft photo" in task.text and 'accept="image/jpeg,image/png,image/webp"' in task.text
    http.cookies.clear()

    photo = phone_photo(tmp_path / "IMG_0001.jpg")
    key = await upload(http, s.c, photo, "image/jpeg")
    body = {"media_key": key, "caption": GOOD_CAPTION}
    ok(await http.post(f"/deliveries/{s.delivery_id}/drafts", json=body, headers=s.c))
    await s.stage(http, "in_review")
    [draft] = (await s.read(http))["submissions"]
    assert (draft["checks_passed"], draft["findings"]) == (True, [])
    assert draft["media_kind"] == "photo" and "captions" not in draft["media"]

    # The brand sees the platform's copy: a JPEG, upright, without the phone's EXIF (GPS).
    link = f"/deliveries/{s.delivery_id}/submissions/{draft['id']}/media/video"
    shown = await http.get(link, headers=s.b)
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["content-disposition"] == "inline"
    with Image.open(io.BytesIO(shown.content)) as kept:
        assert (kept.size, dict(kept.getexif())) == ((300, 400), {})
    await sign_in(http, s.brand)
    review = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert f'<img id="player" class="photo" src="/portal/media/{s.delivery_id}/{draft["id"]}"' in (
        review.text
    )
    assert "<video" not in review.text
    http.cookies.clear()

    approved = await http.post(
        f"/deliveries/{s.delivery_id}/review", json={"decision": "approve"}, headers=s.b
    )
    assert ok(approved)["stage"] == "awaiting_final"

    # A video sent as the final photo is stopped by the checks and goes back to the creator.
    clip = await upload(http, s.c, sponsored_clip())
    final = f"/deliveries/{s.delivery_id}/final"
    ok(await http.post(final, json={"media_key": clip}, headers=s.c))
    delivery = await submitted(http, s, "final", 1)
    assert delivery["stage"] == "awaiting_final"
    [refused] = [x for x in delivery["submissions"] if x["kind"] == "final"]
    assert refused["checks_passed"] is False
    assert [f["code"] for f in refused["findings"]] == ["unsupported_type"]
    inbox = ok(await http.get("/notifications", headers=s.c))
    [told] = [n for n in inbox if n["kind"] == "final_checks_failed"]
    assert "Upload a JPEG, PNG or WebP photo" in told["body"]

    again = await upload(http, s.c, photo, "image/jpeg")
    ok(await http.post(final, json={"media_key": again}, headers=s.c))
    await s.stage(http, "completed")


async def test_a_photo_on_the_child_safety_list_is_quarantined_and_ends_the_delivery(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """The embedded default list's self-test picture stands in for listed material."""
    s = await started_delivery(http, engine, deliverable=PHOTO)
    listed = self_test_image(tmp_path / "self-test.png")
    key = await upload(http, s.c, listed, "image/png")
    body = {"media_key": key, "caption": GOOD_CAPTION}
    ok(await http.post(f"/deliveries/{s.delivery_id}/drafts", json=body, headers=s.c))
    await s.stage(http, "cancelled")

    [draft] = (await s.read(http))["submissions"]
    assert draft["checks_passed"] is False
    assert [f["code"] for f in draft["findings"]] == ["child_safety_hash_match"]
    with pytest.raises(ObjectNotFound):
        store_from_settings(settings.storage).stat(key)
    with Session(engine) as session:
        assert [e.kind for e in escalations(session, draft["id"])] == ["child_safety"]
