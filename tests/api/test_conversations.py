"""One conversation per delivery between the brand and the creator, over the API and in the
portal: both sides write, the other side is told (inbox, and e-mail as they chose), files
come back only as downloads, and nobody outside the delivery sees any of it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api.app import close_app, create_app
from api.security import generate_api_key
from domain.enums import Role
from models.db import session_scope
from models.notifications import caught as caught_emails
from models.workspaces import ApiKey
from nexus.settings import Settings
from tests.api.test_inbox import client_for, running_catcher, with_mail
from tests.api.test_media_serving import ATTACK, JPEG, assert_download
from tests.api.test_portal import csrf_from, sign_in
from tests.api.test_portal_brand import error_of
from tests.support import (
    CreatorAccount,
    DeliveredAsset,
    Tenant,
    add_member,
    free_port,
    login,
    make_creator,
    make_delivered_asset,
    make_tenant,
)


@pytest.fixture
async def caught(settings: Settings) -> AsyncIterator[int]:
    async with running_catcher(settings, free_port()) as port:
        yield port


@pytest.fixture
async def app(
    settings: Settings, engine: Engine, client: Client, caught: int
) -> AsyncIterator[FastAPI]:
    # E-mail through the real mail catcher; no worker: messages notify from the request.
    app = create_app(with_mail(settings, caught), engine=engine, temporal=client)
    yield app
    await close_app(app)


@pytest.fixture
async def web(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http


def partner_key(engine: Engine, brand: Tenant, scope: str) -> dict[str, str]:
    new = generate_api_key()
    with session_scope(engine) as session:
        session.add(
            ApiKey(workspace_id=brand.workspace_id, name="Shop sync", prefix=new.prefix,
                   secret_hash=new.secret_hash, scopes=[scope], created_by=brand.user_id)
        )  # fmt: skip
    return {"Authorization": f"Bearer {new.plaintext}"}


async def attach(
    http: httpx.AsyncClient, headers: dict[str, str], delivery_id: uuid.UUID, name: str,
    content_type: str, data: bytes,
) -> str:  # fmt: skip
    """Upload a file for a message as a client does: ticket, then exactly its bytes."""
    ticket = await http.post(
        f"/deliveries/{delivery_id}/attachments", headers=headers,
        json={"filename": name, "content_type": content_type, "size_bytes": len(data)},
    )  # fmt: skip
    assert ticket.status_code == 201, ticket.text
    body = ticket.json()
    put = await http.put(
        urlsplit(body["urls"][0]).path, content=data, headers=headers | body["headers"]
    )
    assert put.status_code == 201, put.text
    key: str = body["key"]
    return key


def inbox_titles(engine: Engine, user: Tenant | CreatorAccount) -> list[str]:
    from models.notifications import inbox

    with session_scope(engine) as session:
        return [n.title for n in inbox(session, user.user_id, unread_only=False, limit=50)]


def emailed_to(engine: Engine, address: str) -> list[str]:
    with session_scope(engine) as session:
        return [m.subject for m in caught_emails(session, recipient=address, limit=50)]


async def test_both_sides_write_and_the_other_side_is_told(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    member = add_member(engine, brand, Role.BRAND_MEMBER)
    creator = make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    url = f"/deliveries/{asset.delivery_id}/messages"
    brand_headers = await login(web, brand)
    creator_headers = await login(web, creator.tenant)

    sent = await web.post(
        url, json={"body": "  Could you mention the SPF?  "}, headers=brand_headers
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert message["body"] == "Could you mention the SPF?"
    assert message["side"] == "brand"
    assert message["sender_name"].startswith("User ") and "(Brand " in message["sender_name"]

    # The creator is told, in the inbox and by e-mail, with the sender's and campaign's names.
    notice = f"{message['sender_name']} sent you a message"
    assert inbox_titles(engine, creator) == [notice]
    assert emailed_to(engine, creator.email) == [notice]
    assert inbox_titles(engine, brand) == [] and inbox_titles(engine, member) == []

    # The creator turns e-mail for messages off, then answers with a file.
    muted = await web.put(
        "/notifications/preferences", json={"email": {"messages": False}}, headers=creator_headers
    )
    assert muted.status_code == 200
    key = await attach(
        web, creator_headers, asset.delivery_id, "My notes.html", "text/html", ATTACK
    )
    reply = await web.post(
        url, json={"body": "Sure!\nSee my notes.", "attachment_key": key}, headers=creator_headers
    )
    assert reply.status_code == 201, reply.text
    answer = reply.json()
    assert answer["attachment"]["name"] == "My-notes.html"
    assert answer["attachment"]["size_bytes"] == len(ATTACK)

    listed = (await web.get(url, headers=creator_headers)).json()
    assert [m["body"] for m in listed] == ["Could you mention the SPF?", "Sure!\nSee my notes."]
    told = f"Creator {creator.email.split('-')[1].split('@')[0]} sent you a message"
    assert inbox_titles(engine, brand) == [told] and inbox_titles(engine, member) == [told]
    assert emailed_to(engine, brand.email) == [told] and emailed_to(engine, member.email) == [told]
    # Muted by e-mail, still in the inbox: a second brand message reaches the creator only there.
    await web.post(url, json={"body": "Thanks"}, headers=brand_headers)
    assert len(inbox_titles(engine, creator)) == 2
    assert emailed_to(engine, creator.email) == [notice]

    # The brand's HTML attachment: a download, never a page on the platform's origin.
    download = await web.get(answer["attachment"]["url"], headers=brand_headers)
    assert_download(download)
    assert download.headers["content-disposition"] == 'attachment; filename="My-notes.html"'
    assert download.content == ATTACK


async def test_an_image_shows_inline_only_when_its_bytes_prove_it(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    headers = await login(web, creator.tenant)
    url = f"/deliveries/{asset.delivery_id}/messages"
    real = await attach(web, headers, asset.delivery_id, "label.jpg", "image/jpeg", JPEG)
    fake = await attach(web, headers, asset.delivery_id, "label.png", "image/png", ATTACK)
    for key in (real, fake):
        assert (
            await web.post(url, json={"attachment_key": key}, headers=headers)
        ).status_code == 201
    shown, posing = (await web.get(url, headers=headers)).json()
    image = await web.get(shown["attachment"]["url"], headers=headers)
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["content-disposition"] == "inline"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert_download(await web.get(posing["attachment"]["url"], headers=headers))


async def test_only_the_deliverys_brand_its_creator_and_ops_see_the_conversation(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    url = f"/deliveries/{asset.delivery_id}/messages"
    brand_headers = await login(web, brand)
    key = await attach(web, brand_headers, asset.delivery_id, "brief.pdf", "application/pdf",
                       b"%PDF-1.4 brief")  # fmt: skip
    sent = await web.post(url, json={"body": "Brief attached", "attachment_key": key},
                          headers=brand_headers)  # fmt: skip
    attachment = sent.json()["attachment"]["url"]

    other_brand = await login(web, make_tenant(engine))
    other_creator = await login(web, make_creator(engine).tenant)
    for outsider in (other_brand, other_creator):
        assert (await web.get(url, headers=outsider)).status_code == 404
        assert (await web.post(url, json={"body": "hi"}, headers=outsider)).status_code == 404
        assert (await web.get(attachment, headers=outsider)).status_code == 404
        ticket = await web.post(
            f"/deliveries/{asset.delivery_id}/attachments", headers=outsider,
            json={"filename": "x.txt", "content_type": "text/plain", "size_bytes": 3},
        )  # fmt: skip
        assert ticket.status_code == 404
    # Another workspace's upload cannot ride on a message here.
    stolen = await web.post(
        url, json={"attachment_key": key}, headers=await login(web, creator.tenant)
    )
    assert stolen.status_code == 422
    assert stolen.json()["errors"][0]["field"] == "body.attachment_key"

    ops = await login(web, make_tenant(engine, Role.OPS))
    assert [m["body"] for m in (await web.get(url, headers=ops)).json()] == ["Brief attached"]
    assert (await web.get(attachment, headers=ops)).status_code == 200
    assert (await web.post(url, json={"body": "hi"}, headers=ops)).status_code == 403

    # Partner keys of the brand: reading takes deliveries:read, writing deliveries:write.
    reader = partner_key(engine, brand, "deliveries:read")
    writer = partner_key(engine, brand, "deliveries:write")
    assert (await web.get(url, headers=reader)).status_code == 200
    assert (await web.post(url, json={"body": "x"}, headers=reader)).status_code == 403
    by_key = await web.post(url, json={"body": "Shipped today"}, headers=writer)
    assert by_key.status_code == 201
    assert by_key.json()["sender_name"].startswith("Shop sync (API, Brand ")


async def test_a_message_needs_text_or_a_file_and_no_control_characters(
    web: httpx.AsyncClient, engine: Engine
) -> None:
    brand = make_tenant(engine)
    asset = make_delivered_asset(engine, brand, make_creator(engine))
    headers = await login(web, brand)
    url = f"/deliveries/{asset.delivery_id}/messages"
    for body, field in (({"body": "   "}, "body.body"), ({"body": "a\x00b"}, "body.body"),
                        ({"body": "x" * 4001}, "body.body")):  # fmt: skip
        refused = await web.post(url, json=body, headers=headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == field
    big = await web.post(
        f"/deliveries/{asset.delivery_id}/attachments", headers=headers,
        json={"filename": "film.mov", "content_type": "video/quicktime", "size_bytes": 10**9},
    )  # fmt: skip
    assert big.status_code == 413
    assert "25 MB" in big.json()["detail"]
    assert (await web.get(url, headers=headers)).json() == []


# -- the portal ------------------------------------------------------------------------------


async def portal_delivery(app: FastAPI, who: Tenant, asset: DeliveredAsset) -> httpx.Response:
    async with client_for(app) as http:
        await sign_in(http, who)
        return await http.get(f"/portal/deliveries/{asset.delivery_id}")


async def test_the_portal_shows_the_conversation_on_both_sides_delivery_pages(
    app: FastAPI, engine: Engine
) -> None:
    brand = make_tenant(engine)
    creator = make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    messages = f"/portal/deliveries/{asset.delivery_id}/messages"
    for who in (brand, creator.tenant):
        page = await portal_delivery(app, who, asset)
        assert page.status_code == 200, page.text
        assert f'hx-get="{messages}"' in page.text  # the messages load into the page
        assert f'action="{messages}"' in page.text  # and it writes to them

    async with client_for(app) as http:
        await sign_in(http, brand)
        page = await http.get(messages)
        form = {"csrf_token": csrf_from(page), "body": "x" * 4001}
        refused = await http.post(messages, data=form)
        assert refused.status_code == 422
        assert error_of(refused, "message-body") == "Keep the message under 4,000 characters."
        assert "x" * 4001 in refused.text  # nothing typed is lost
        sent = await http.post(messages, data=form | {"body": "Love the <b>hook</b>!"})
        assert sent.status_code == 303
        assert sent.headers["location"] == f"/portal/deliveries/{asset.delivery_id}#conversation"

    async with client_for(app) as http:
        await sign_in(http, creator.tenant)
        assert inbox_titles(engine, creator)[0].endswith("sent you a message")
        fragment = await http.get(messages, headers={"HX-Request": "true"})
        assert "<html" not in fragment.text
        assert "Love the &lt;b&gt;hook&lt;/b&gt;!" in fragment.text
        assert "just now" in fragment.text
        # Reading the conversation marks its notifications read.
        assert (await http.get("/portal/notifications/badge")).text.strip() == ""

    async with client_for(app) as http:
        await sign_in(http, make_tenant(engine))
        assert (await http.get(messages)).status_code == 404
    async with client_for(app) as http:
        await sign_in(http, make_tenant(engine, Role.OPS))
        page = await http.get(messages)
        assert "Love the &lt;b&gt;hook&lt;/b&gt;!" in page.text
        assert f'action="{messages}"' not in page.text  # ops read; they do not write


async def test_a_message_reaches_the_inbox_when_e_mail_is_down(
    settings: Settings, engine: Engine, client: Client
) -> None:
    down = create_app(with_mail(settings, free_port()), engine=engine, temporal=client)
    brand = make_tenant(engine)
    creator = make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    async with client_for(down) as http:
        sent = await http.post(
            f"/deliveries/{asset.delivery_id}/messages",
            json={"body": "Is the parcel there?"},
            headers=await login(http, brand),
        )
    await close_app(down)
    assert sent.status_code == 201
    assert [t.endswith("sent you a message") for t in inbox_titles(engine, creator)] == [True]
