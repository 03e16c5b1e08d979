"""Inviting people to a brand workspace: who may, what is refused, and accepting a token once,
before it expires, as a new person or as the existing user signed in."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import select

from domain.enums import Role
from models.base import utcnow
from models.db import session_scope
from models.invitations import Invitation
from models.notifications import Notification
from tests.support import PASSWORD, add_member, login, make_creator, make_tenant

NEW_PASSWORD = "lanterns over the quiet harbour"


def _token(created: httpx.Response) -> str:
    return str(created.json()["link"]).rsplit("/", 1)[1]


async def _invite(
    http: httpx.AsyncClient, headers: dict[str, str], email: str, role: str = "brand_member"
) -> httpx.Response:
    return await http.post(
        "/workspaces/current/invitations", json={"email": email, "role": role}, headers=headers
    )


async def test_a_new_person_accepts_once_and_acts_in_the_workspace(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    headers = await login(http, admin)
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    created = await _invite(http, headers, email, "brand_admin")
    assert created.status_code == 201, created.text
    token = _token(created)
    assert created.json()["link"] == f"/portal/invitations/{token}"
    with session_scope(engine) as session:
        row = session.exec(select(Invitation).where(Invitation.email == email)).one()
        # Only the hash is stored.
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in row.model_dump_json()
        assert timedelta(days=6, hours=23) < row.expires_at - utcnow() <= timedelta(days=7)

    listed = await http.get("/workspaces/current/invitations", headers=headers)
    assert [i["email"] for i in listed.json()] == [email]
    assert "link" not in listed.json()[0]

    missing = await http.post(f"/invitations/{token}/acceptance", json={})
    assert missing.status_code == 422
    fields = {e["field"] for e in missing.json()["errors"]}
    assert fields == {"body.name", "body.password"}

    # The password policy of sign-up holds here too, the invitation's e-mail included.
    for weak, reason in (
        ("p" * 12, "This repeats one character"),
        ("password1234", "This is a commonly used password"),
        (email.upper(), "This is too close to your e-mail address"),
    ):
        refused = await http.post(
            f"/invitations/{token}/acceptance", json={"name": "Noor", "password": weak}
        )
        assert refused.status_code == 422, weak
        [problem] = refused.json()["errors"]
        assert problem["field"] == "body.password" and reason in problem["reason"], problem
    accepted = await http.post(
        f"/invitations/{token}/acceptance", json={"name": "Noor", "password": NEW_PASSWORD}
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["workspace_id"] == str(admin.workspace_id)
    assert accepted.json()["role"] == "brand_admin"
    signed = await http.post("/auth/login", json={"email": email, "password": NEW_PASSWORD})
    assert signed.json()["workspace_id"] == str(admin.workspace_id)

    again = await http.post(
        f"/invitations/{token}/acceptance", json={"name": "Noor", "password": NEW_PASSWORD}
    )
    assert again.status_code == 409
    assert (await http.get("/workspaces/current/invitations", headers=headers)).json() == []
    # Now a member: inviting the same e-mail again is a conflict on that field.
    clash = await _invite(http, headers, email.upper())
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "body.email"


async def test_bad_input_duplicates_and_roles_are_refused(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    headers = await login(http, admin)
    bad = await _invite(http, headers, "not-an-email", "owner")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"body.email", "body.role"}
    creator_role = await _invite(http, headers, "x@example.com", "creator")
    assert creator_role.status_code == 422
    # Control characters are no e-mail: a NUL used to reach PostgreSQL and answer 500.
    for hostile in ("a\x00b@example.com", "ab@exa\x1bmple.com"):
        refused = await _invite(http, headers, hostile)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["body.email"]

    email = f"dup-{uuid.uuid4().hex[:6]}@example.com"
    assert (await _invite(http, headers, email)).status_code == 201
    pending = await _invite(http, headers, email)
    assert pending.status_code == 409
    assert "pending" in pending.json()["errors"][0]["reason"]

    member = add_member(engine, admin, Role.BRAND_MEMBER)
    member_headers = await login(http, member)
    assert (await _invite(http, member_headers, "y@example.com")).status_code == 403
    listing = await http.get("/workspaces/current/invitations", headers=member_headers)
    assert listing.status_code == 403


async def test_expired_revoked_and_unknown_tokens_open_nothing(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    headers = await login(http, admin)
    body = {"name": "Late", "password": NEW_PASSWORD}
    old = await _invite(http, headers, f"old-{uuid.uuid4().hex[:6]}@example.com")
    with session_scope(engine) as session:
        row = session.get(Invitation, uuid.UUID(old.json()["id"]))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    expired = await http.post(f"/invitations/{_token(old)}/acceptance", json=body)
    assert expired.status_code == 410
    assert expired.headers["content-type"] == "application/problem+json"

    withdrawn = await _invite(http, headers, f"rev-{uuid.uuid4().hex[:6]}@example.com")
    invitation_id = withdrawn.json()["id"]
    revoke = await http.delete(f"/workspaces/current/invitations/{invitation_id}", headers=headers)
    assert revoke.status_code == 204
    gone = await http.post(f"/invitations/{_token(withdrawn)}/acceptance", json=body)
    assert gone.status_code == 404
    twice = await http.delete(f"/workspaces/current/invitations/{invitation_id}", headers=headers)
    assert twice.status_code == 404

    unknown = await http.post("/invitations/not-a-token/acceptance", json=body)
    assert unknown.status_code == 404


async def test_another_workspace_neither_sees_nor_revokes_the_invitations(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin, other = make_tenant(engine), make_tenant(engine)
    headers, other_headers = await login(http, admin), await login(http, other)
    created = await _invite(http, headers, f"t-{uuid.uuid4().hex[:6]}@example.com")
    assert (await http.get("/workspaces/current/invitations", headers=other_headers)).json() == []
    foreign = await http.delete(
        f"/workspaces/current/invitations/{created.json()['id']}", headers=other_headers
    )
    assert foreign.status_code == 404
    assert len((await http.get("/workspaces/current/invitations", headers=headers)).json()) == 1


async def test_an_existing_user_is_told_in_the_inbox_and_must_sign_in_as_themselves(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    admin = make_tenant(engine)
    elsewhere = make_tenant(engine)  # a user of another brand, to be invited here
    headers = await login(http, admin)
    created = await _invite(http, headers, elsewhere.email)
    token = _token(created)
    with session_scope(engine) as session:
        inbox = session.exec(
            select(Notification).where(Notification.user_id == elsewhere.user_id)
        ).one()
        assert inbox.kind == "invitation"
        assert inbox.link == f"/portal/invitations/{token}"

    anonymous = await http.post(f"/invitations/{token}/acceptance", json={})
    assert anonymous.status_code == 401
    stranger = make_creator(engine)
    stranger_headers = await login(http, stranger.tenant)
    wrong = await http.post(f"/invitations/{token}/acceptance", json={}, headers=stranger_headers)
    assert wrong.status_code == 403

    own = await login(http, elsewhere)
    accepted = await http.post(f"/invitations/{token}/acceptance", json={}, headers=own)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["workspace_id"] == str(admin.workspace_id)
    me = await http.get("/auth/me", headers=own)
    assert {m["workspace_id"] for m in me.json()["memberships"]} == {
        str(admin.workspace_id),
        str(elsewhere.workspace_id),
    }
    # The password was not changed by accepting.
    again = await http.post("/auth/login", json={"email": elsewhere.email, "password": PASSWORD})
    assert again.status_code == 200
