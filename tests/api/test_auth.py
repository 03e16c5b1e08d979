from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, delete
from sqlmodel import Session

from api.security import AccessClaims, decode_access_token, issue_access_token
from domain.enums import Role
from models.workspaces import Membership
from nexus.errors import Unauthenticated
from nexus.settings import AuthSettings, Settings
from tests.support import PASSWORD, Tenant, add_member, login, make_tenant

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def assert_unauthenticated(response: httpx.Response) -> dict[str, Any]:
    body = assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


def mint(settings: Settings, tenant: Tenant, *, secret: str | None = None, **overrides: Any) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.auth.jwt_issuer,
        "sub": str(tenant.user_id),
        "wid": str(tenant.workspace_id),
        "role": tenant.role.value,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    key = secret or settings.auth.jwt_secret.get_secret_value()
    return jwt.encode(claims, key, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def join(engine: Engine, user: Tenant, other: Tenant, role: Role) -> None:
    with Session(engine) as session:
        session.add(Membership(user_id=user.user_id, workspace_id=other.workspace_id, role=role))
        session.commit()


async def test_login_returns_a_bearer_token_for_the_requested_workspace(
    http: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    home = make_tenant(engine)
    other = make_tenant(engine)
    join(engine, home, other, Role.BRAND_MEMBER)

    response = await http.post(
        "/auth/login",
        json={"email": home.email, "password": PASSWORD, "workspace_id": str(other.workspace_id)},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.auth.access_token_ttl_s
    assert body["workspace_id"] == str(other.workspace_id)
    assert body["role"] == "brand_member"
    me = await http.get("/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["workspace_id"] == str(other.workspace_id)
    assert me.json()["role"] == "brand_member"


async def test_login_without_a_workspace_picks_the_first_membership(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    home = make_tenant(engine)
    other = make_tenant(engine)
    join(engine, home, other, Role.BRAND_MEMBER)

    # E-mail matching ignores case.
    response = await http.post(
        "/auth/login", json={"email": home.email.upper(), "password": PASSWORD}
    )

    assert response.status_code == 200, response.text
    assert response.json()["workspace_id"] == str(home.workspace_id)
    assert response.json()["role"] == "brand_admin"


async def test_login_to_a_workspace_the_user_does_not_belong_to_is_forbidden(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    user = make_tenant(engine)
    stranger = make_tenant(engine)

    response = await http.post(
        "/auth/login",
        json={
            "email": user.email,
            "password": PASSWORD,
            "workspace_id": str(stranger.workspace_id),
        },
    )

    body = assert_problem(response, 403, "forbidden")
    assert "access_token" not in body


async def test_wrong_password_and_unknown_email_are_indistinguishable(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)

    wrong_password = await http.post(
        "/auth/login", json={"email": tenant.email, "password": PASSWORD + "!"}
    )
    unknown_email = await http.post(
        "/auth/login", json={"email": "nobody-" + tenant.email, "password": PASSWORD}
    )

    first = assert_unauthenticated(wrong_password)
    second = assert_unauthenticated(unknown_email)
    assert first["detail"] == second["detail"] == "e-mail or password is wrong"
    assert first["title"] == second["title"]


async def test_a_request_without_credentials_is_unauthenticated(http: httpx.AsyncClient) -> None:
    for path in ("/auth/me", "/campaigns", "/brands", "/api-keys"):
        body = assert_unauthenticated(await http.get(path))
        assert body["detail"] == "a bearer token or API key is required"
    assert_unauthenticated(await http.get("/auth/me", headers={"Authorization": "Basic dTpw"}))


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30."],
    ids=["garbage", "three-segments", "empty-payload-no-signature"],
)
async def test_a_malformed_token_is_unauthenticated(http: httpx.AsyncClient, token: str) -> None:
    body = assert_unauthenticated(await http.get("/auth/me", headers=bearer(token)))
    assert body["detail"] == "access token invalid"


async def test_a_tampered_token_is_unauthenticated(
    http: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    admin = make_tenant(engine)
    victim = make_tenant(engine)
    token = mint(settings, admin)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # Keep the genuine signature, point the payload at another workspace.
    claims["wid"] = str(victim.workspace_id)
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    response = await http.get("/auth/me", headers=bearer(f"{header}.{forged_payload}.{signature}"))

    body = assert_unauthenticated(response)
    assert body["detail"] == "access token invalid"


async def test_an_expired_token_is_unauthenticated_and_says_so(
    http: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    tenant = make_tenant(engine)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    token = mint(settings, tenant, iat=long_ago, exp=long_ago + timedelta(minutes=5))

    body = assert_unauthenticated(await http.get("/auth/me", headers=bearer(token)))

    assert "expired" in body["detail"]


async def test_a_token_signed_with_another_secret_is_unauthenticated(
    http: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    tenant = make_tenant(engine)
    assert (await http.get("/auth/me", headers=bearer(mint(settings, tenant)))).status_code == 200

    token = mint(settings, tenant, secret="another-secret-" + "y" * 32)

    body = assert_unauthenticated(await http.get("/auth/me", headers=bearer(token)))
    assert body["detail"] == "access token invalid"


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "wid", "role", "iss"])
async def test_a_token_missing_a_required_claim_is_unauthenticated(
    http: httpx.AsyncClient, engine: Engine, settings: Settings, claim: str
) -> None:
    tenant = make_tenant(engine)
    token = mint(settings, tenant)
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims[claim]
    stripped = jwt.encode(claims, settings.auth.jwt_secret.get_secret_value(), algorithm="HS256")

    assert_unauthenticated(await http.get("/auth/me", headers=bearer(stripped)))


async def test_a_token_from_another_issuer_or_unsigned_is_unauthenticated(
    http: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    tenant = make_tenant(engine)
    foreign = mint(settings, tenant, iss="someone-else")
    claims = jwt.decode(mint(settings, tenant), options={"verify_signature": False})
    unsigned = jwt.encode(claims, "", algorithm="none")

    assert_unauthenticated(await http.get("/auth/me", headers=bearer(foreign)))
    assert_unauthenticated(await http.get("/auth/me", headers=bearer(unsigned)))


async def test_the_role_comes_from_the_membership_not_the_token(
    http: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    member = add_member(engine, make_tenant(engine), Role.BRAND_MEMBER)
    token = mint(settings, member, role="brand_admin")

    me = await http.get("/auth/me", headers=bearer(token))
    keys = await http.post(
        "/api-keys", headers=bearer(token), json={"name": "x", "scopes": ["campaigns:read"]}
    )

    assert me.status_code == 200
    assert me.json()["role"] == "brand_member"
    assert_problem(keys, 403, "forbidden")


async def test_a_token_is_refused_once_the_membership_is_removed(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers = await login(http, tenant)
    assert (await http.get("/auth/me", headers=headers)).status_code == 200

    with Session(engine) as session:
        session.execute(
            delete(Membership).where(
                Membership.user_id == tenant.user_id,  # type: ignore[arg-type]
                Membership.workspace_id == tenant.workspace_id,  # type: ignore[arg-type]
            )
        )
        session.commit()

    body = assert_unauthenticated(await http.get("/auth/me", headers=headers))
    assert body["detail"] == "no longer a member of this workspace"
    assert_unauthenticated(await http.get("/campaigns", headers=headers))


async def test_me_returns_the_identity_and_all_memberships(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    home = make_tenant(engine)
    other = make_tenant(engine)
    join(engine, home, other, Role.BRAND_MEMBER)

    response = await http.get("/auth/me", headers=await login(http, home))

    assert response.status_code == 200, response.text
    me = response.json()
    assert me["user_id"] == str(home.user_id)
    assert me["api_key_id"] is None
    assert me["email"] == home.email
    assert me["name"].startswith("User ")
    assert me["workspace_id"] == str(home.workspace_id)
    assert me["role"] == "brand_admin"
    assert [(m["workspace_id"], m["role"], m["kind"]) for m in me["memberships"]] == [
        (str(home.workspace_id), "brand_admin", "brand"),
        (str(other.workspace_id), "brand_member", "brand"),
    ]
    assert all(m["name"].startswith("Workspace ") for m in me["memberships"])


async def test_switch_gives_a_token_for_another_workspace_of_the_user(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    home = make_tenant(engine)
    other = make_tenant(engine)
    join(engine, home, other, Role.BRAND_MEMBER)
    headers = await login(http, home)

    response = await http.post(
        "/auth/switch", headers=headers, json={"workspace_id": str(other.workspace_id)}
    )

    assert response.status_code == 200, response.text
    assert response.json()["workspace_id"] == str(other.workspace_id)
    assert response.json()["role"] == "brand_member"
    switched = bearer(response.json()["access_token"])
    me = (await http.get("/auth/me", headers=switched)).json()
    assert (me["workspace_id"], me["role"]) == (str(other.workspace_id), "brand_member")
    brands = (await http.get("/brands", headers=switched)).json()
    assert [b["id"] for b in brands] == [str(other.brand_id)]


async def test_switch_to_a_workspace_the_user_does_not_belong_to_is_forbidden(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    user = make_tenant(engine)
    stranger = make_tenant(engine)
    headers = await login(http, user)

    response = await http.post(
        "/auth/switch", headers=headers, json={"workspace_id": str(stranger.workspace_id)}
    )

    body = assert_problem(response, 403, "forbidden")
    assert body["detail"] == "not a member of that workspace"
    assert "access_token" not in body


async def test_switch_needs_a_signed_in_user(http: httpx.AsyncClient, engine: Engine) -> None:
    tenant = make_tenant(engine)
    headers = await login(http, tenant)
    created = await http.post(
        "/api-keys", headers=headers, json={"name": "partner", "scopes": ["campaigns:read"]}
    )
    key = bearer(created.json()["key"])

    unauthenticated = await http.post(
        "/auth/switch", json={"workspace_id": str(tenant.workspace_id)}
    )
    with_key = await http.post(
        "/auth/switch", headers=key, json={"workspace_id": str(tenant.workspace_id)}
    )

    assert_unauthenticated(unauthenticated)
    assert_problem(with_key, 403, "forbidden")


async def test_login_with_unknown_fields_is_rejected_naming_them(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)

    response = await http.post(
        "/auth/login",
        json={"email": tenant.email, "password": PASSWORD, "remember_me": True},
    )

    body = assert_problem(response, 422, "validation-failed")
    assert fields(body) == ["body.remember_me"]
    assert all(e["reason"] for e in body["errors"])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": 42, "password": PASSWORD}, "body.email"),
        ({"email": "a@b.example", "password": ["x"]}, "body.password"),
        (
            {"email": "a@b.example", "password": PASSWORD, "workspace_id": "nope"},
            "body.workspace_id",
        ),
        ({"email": "a@b.example"}, "body.password"),
        ({"email": "a@b.example", "password": ""}, "body.password"),
    ],
    ids=["email-int", "password-list", "workspace-not-uuid", "password-missing", "password-empty"],
)
async def test_login_with_a_malformed_body_is_rejected(
    http: httpx.AsyncClient, payload: dict[str, Any], field: str
) -> None:
    body = assert_problem(await http.post("/auth/login", json=payload), 422, "validation-failed")
    assert fields(body) == [field]


async def test_login_with_a_non_object_body_is_rejected(http: httpx.AsyncClient) -> None:
    assert_problem(await http.post("/auth/login", json=["a", "b"]), 422, "validation-failed")
    assert_problem(
        await http.post(
            "/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        422,
        "validation-failed",
    )


async def test_a_token_used_after_sign_out_is_unauthenticated(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers = await login(http, tenant)
    other_device = await login(http, tenant)

    assert (await http.post("/auth/logout", headers=headers)).status_code == 204

    body = assert_unauthenticated(await http.get("/auth/me", headers=headers))
    assert body["detail"] == "signed out: sign in again"
    assert_unauthenticated(await http.get("/campaigns", headers=headers))
    assert_unauthenticated(await http.post("/auth/logout", headers=headers))
    # Only that token ends: the user's other sign-ins go on.
    assert (await http.get("/auth/me", headers=other_device)).status_code == 200


async def test_sign_out_needs_a_users_token(http: httpx.AsyncClient, engine: Engine) -> None:
    tenant = make_tenant(engine)
    created = await http.post(
        "/api-keys", headers=await login(http, tenant),
        json={"name": "partner", "scopes": ["campaigns:read"]},
    )  # fmt: skip

    assert_unauthenticated(await http.post("/auth/logout"))
    assert_problem(
        await http.post("/auth/logout", headers=bearer(created.json()["key"])), 403, "forbidden"
    )


async def test_an_unknown_email_takes_as_long_to_refuse_as_a_wrong_password(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    tenant = make_tenant(engine)

    async def fastest(email: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            response = await http.post("/auth/login", json={"email": email, "password": "wrong"})
            times.append(time.perf_counter() - started)
            assert_unauthenticated(response)
        return min(times)

    wrong_password = await fastest(tenant.email)
    unknown_email = await fastest("nobody-" + tenant.email)

    # Both verify a password hash (tens of milliseconds); a lookup alone takes a few.
    assert unknown_email > 0.5 * wrong_password, (unknown_email, wrong_password)


async def test_a_nul_in_the_login_email_is_a_wrong_login(http: httpx.AsyncClient) -> None:
    response = await http.post("/auth/login", json={"email": "a\x00@b.example", "password": "x"})

    assert assert_unauthenticated(response)["detail"] == "e-mail or password is wrong"


def test_a_verified_token_is_remembered_yet_still_expires_and_binds_to_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = AuthSettings(jwt_secret=SecretStr("s" * 40), access_token_ttl_s=30)
    claims = AccessClaims(uuid.uuid4(), uuid.uuid4(), Role.BRAND_ADMIN)
    token, _ = issue_access_token(auth, claims)
    first = decode_access_token(auth, token)
    assert decode_access_token(auth, token) is first  # checked once, then remembered

    # Another installation's key never finds it valid, remembered or not.
    other = auth.model_copy(update={"jwt_secret": SecretStr("t" * 40)})
    with pytest.raises(Unauthenticated, match="invalid"):
        decode_access_token(other, token)
    # Past its expiry the remembered token is refused like any other.
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(Unauthenticated, match="expired"):
        decode_access_token(auth, token)
    assert decode_access_token(auth, token, verify_expiry=False) is first
