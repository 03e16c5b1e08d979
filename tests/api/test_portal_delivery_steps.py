"""The delivery's later steps in the API and the portal, for brand and creator: the script
the brand approves or sends back with notes, submissions numbered per kind, the extra
revision request with its notes and the creator's answer, and the final files checked and
shown to the brand."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import Engine

from tests.api.delivery_support import started_delivery
from tests.api.test_portal import csrf_from, sign_in
from tests.api.test_portal_brand import error_of
from tests.e2e.support import ok
from tests.support import login, make_tenant

SCRIPT = "Hook: <b>my skin in 30 seconds</b>.\nThen the serum, close up."


def _text(page: httpx.Response, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page.text, re.S)
    assert match, f"no #{element_id} on the page"
    return match.group(1)


async def test_the_script_review_route_refuses_what_cannot_be_and_numbers_per_kind(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    s = await started_delivery(http, engine, script_required=True)
    path = f"/deliveries/{s.delivery_id}/script-review"
    early = await http.post(path, json={"decision": "approve"}, headers=s.b)
    assert early.status_code == 409
    assert early.headers["content-type"] == "application/problem+json"
    assert "no script in review" in early.json()["detail"]

    sent = ok(await http.post(f"/deliveries/{s.delivery_id}/script", json={"text": SCRIPT},
                              headers=s.c))  # fmt: skip
    assert sent["stage"] == "script_review" and sent["live"]["next_task"] is None
    queue = ok(await http.get("/deliveries?stage=script_review", headers=s.b))
    assert [d["id"] for d in queue] == [s.delivery_id]

    bad = await http.post(path, json={"decision": "maybe"}, headers=s.b)
    assert bad.status_code == 422
    assert any(e["field"].endswith("decision") for e in bad.json()["errors"])
    no_notes = await http.post(path, json={"decision": "revise"}, headers=s.b)
    assert no_notes.status_code == 409
    assert "needs notes" in no_notes.json()["detail"]
    assert (await http.post(path, json={"decision": "approve"}, headers=s.c)).status_code == 403
    outsider = await login(http, make_tenant(engine))
    assert (await http.post(path, json={"decision": "approve"}, headers=outsider)).status_code == (
        404
    )

    back = ok(await http.post(path, json={"decision": "revise", "notes": "Shorter hook"},
                              headers=s.b))  # fmt: skip
    assert back["stage"] == "awaiting_script"
    assert back["submissions"][0]["review_notes"] == "Shorter hook"
    ok(await http.post(f"/deliveries/{s.delivery_id}/script", json={"text": "Short hook."},
                       headers=s.c))  # fmt: skip
    approved = ok(await http.post(path, json={"decision": "approve"}, headers=s.b))
    assert approved["stage"] == "awaiting_draft"
    assert approved["live"]["next_task"] == "upload_draft"
    # Numbered per kind: the first draft is Draft 1, whatever scripts came before it.
    await s.send_draft(http)
    titles = [x["title"] for x in (await s.read(http))["submissions"]]
    assert titles == ["Script 1", "Script 2", "Draft 1"]


async def test_the_brand_reviews_a_script_from_its_queue_and_the_creator_sends_it_again(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    s = await started_delivery(http, engine, script_required=True)
    ok(await http.post(f"/deliveries/{s.delivery_id}/script", json={"text": SCRIPT},
                       headers=s.c))  # fmt: skip

    await sign_in(http, s.brand)
    queue = await http.get("/portal/reviews")
    row = queue.text.split(f'/portal/deliveries/{s.delivery_id}"')[0].rsplit("<tr>", 1)[1]
    assert "Spring glow launch" in row
    assert f"Creator {s.creator.email.split('-')[1].split('@')[0]}" in row
    assert f'/portal/deliveries/{s.delivery_id}">Review Script 1</a>' in queue.text
    page = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert page.status_code == 200
    assert _text(page, "script-heading") == "Script 1"
    assert "Hook: &lt;b&gt;my skin in 30 seconds&lt;/b&gt;." in _text(page, "script-text")
    assert "<b>my skin" not in page.text
    assert "Approve the script" in page.text and "Ask for changes" in page.text
    csrf = csrf_from(page)
    review = f"/portal/deliveries/{s.delivery_id}/script-review"

    missing = await http.post(review, data={"csrf_token": csrf, "decision": "revise",
                                            "notes": " "})  # fmt: skip
    assert missing.status_code == 422
    assert error_of(missing, "script_notes") == "Tell the creator what to change in the script."
    forged = await http.post(review, data={"csrf_token": "x", "decision": "approve"})
    assert forged.status_code == 403
    assert (await s.read(http))["stage"] == "script_review"

    notes = "Open on the <texture>, then the bottle."
    asked = await http.post(review, data={"csrf_token": csrf, "decision": "revise",
                                          "notes": notes})  # fmt: skip
    assert asked.status_code == 303
    assert (await s.read(http))["stage"] == "awaiting_script"
    # The same decision twice (a stale page): the page says why.
    again = await http.post(review, data={"csrf_token": csrf, "decision": "revise",
                                          "notes": "More light"})  # fmt: skip
    assert again.status_code == 409
    assert "no script in review" in again.text

    await sign_in(http, s.creator.tenant)
    mine = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert "The brand asks for changes to your script" in mine.text
    assert _text(mine, "script-notes") == "Open on the &lt;texture&gt;, then the bottle."
    # The form starts from the script sent, to change rather than retype.
    assert "Hook: &lt;b&gt;my skin in 30 seconds&lt;/b&gt;." in _text(mine, "script")
    send = f"/portal/deliveries/{s.delivery_id}/script"
    too_long = "x" * 10_001
    refused = await http.post(send, data={"csrf_token": csrf_from(mine), "script": too_long})
    assert refused.status_code == 422
    assert error_of(refused, "script") == "Keep the script under 10,000 characters."
    assert too_long in refused.text  # nothing typed is lost
    sent = await http.post(send, data={"csrf_token": csrf_from(mine), "script": "Texture first."})
    assert sent.status_code == 303
    waiting = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert "The brand is reading your script" in waiting.text
    assert "Script 2" in waiting.text and "changes requested" in waiting.text

    await sign_in(http, s.brand)
    page = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert _text(page, "script-heading") == "Script 2"
    approved = await http.post(review, data={"csrf_token": csrf_from(page),
                                             "decision": "approve"})  # fmt: skip
    assert approved.status_code == 303
    assert (await s.read(http))["stage"] == "awaiting_draft"
    assert "Nothing waits for your review." in (await http.get("/portal/reviews")).text


async def test_an_extra_revision_waits_for_the_creator_and_its_notes_lead_the_revision(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    s = await started_delivery(http, engine, revision_rounds=0)
    await s.send_draft(http)

    await sign_in(http, s.brand)
    page = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert "The brief includes no revision rounds" in page.text
    assert 'value="revise"' not in page.text  # no button the process would refuse
    assert "Request an extra revision" in page.text
    assert "Check report (Draft 1)" in page.text
    extra = f"/portal/deliveries/{s.delivery_id}/extra-revision"
    empty = await http.post(extra, data={"csrf_token": csrf_from(page), "notes": ""})
    assert empty.status_code == 422
    assert (
        error_of(empty, "extra_notes") == "Tell the creator what the extra revision should change."
    )
    notes = "Brighter light, and hold the <bottle> still"
    asked = await http.post(extra, data={"csrf_token": csrf_from(page), "notes": notes})
    assert asked.status_code == 303
    page = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert "Waiting for the creator to accept or decline your request." in page.text
    assert "your extra revision request waits for the creator" in page.text
    assert _text(page, "extra-notes") == "Brighter light, and hold the &lt;bottle&gt; still"
    assert "Request an extra revision</button>" not in page.text

    await sign_in(http, s.creator.tenant)
    mine = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert "The brand asks for an extra revision" in mine.text
    assert _text(mine, "extra-notes") == "Brighter light, and hold the &lt;bottle&gt; still"
    assert "Accept the extra revision" in mine.text and ">Decline</button>" in mine.text
    answer = f"/portal/deliveries/{s.delivery_id}/extra-revision/answer"
    assert (await http.post(answer, data={"csrf_token": "x", "accept": "yes"})).status_code == 403
    odd = await http.post(answer, data={"csrf_token": csrf_from(mine), "accept": "maybe"})
    assert odd.status_code == 422
    assert "Choose whether to accept or decline" in odd.text
    accepted = await http.post(answer, data={"csrf_token": csrf_from(mine), "accept": "yes"})
    assert accepted.status_code == 303
    revising = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert "Revision notes from the brand" in revising.text
    assert "Brighter light, and hold the &lt;bottle&gt; still" in revising.text
    assert "Accept the extra revision" not in revising.text
    stale = await http.post(answer, data={"csrf_token": csrf_from(mine), "accept": "no"})
    assert stale.status_code == 409
    assert "no extra revision request waits for your answer" in stale.text
    delivery = await s.read(http)
    assert delivery["stage"] == "revising"
    assert delivery["submissions"][0]["review_notes"] == notes

    # The revised draft, approved; the final files are checked, then the brand sees them.
    await s.send_draft(http)
    ok(await http.post(f"/deliveries/{s.delivery_id}/review", json={"decision": "approve"},
                       headers=s.b))  # fmt: skip
    await s.send_final(http)
    final = (await s.read(http))["submissions"][-1]
    assert (final["title"], final["checks_passed"]) == ("Final files", True)
    await sign_in(http, s.brand)
    page = await http.get(f"/portal/deliveries/{s.delivery_id}")
    assert _text(page, "final-heading") == "Final files"
    assert f'src="/portal/media/{s.delivery_id}/{final["id"]}"' in page.text
    clip = await http.get(f"/portal/media/{s.delivery_id}/{final['id']}")
    assert (clip.status_code, clip.headers["content-type"]) == (200, "video/mp4")
    assert "Draft 2" in page.text and "Check report (Final files)" in page.text
