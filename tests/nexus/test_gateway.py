"""The gateway (nginx + ModSecurity v3 + the OWASP Core Rule Set, nexus/gateway.py) in front of
the app served by uvicorn: attacks in a query are refused with 403 at the edge, logged with the
rules that matched, and never reach the app; the platform's own payloads (a brief full of
quotes and prose, a caption, a video upload, messages, a portal form with its CSRF token) pass
untouched; request ids and body limits hold end to end."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine
from starlette.types import Receive, Scope, Send
from temporalio.client import Client
from temporalio.worker import Worker

from api.app import create_app
from nexus.gateway import GatewayConfig, Tls, dev_user, running
from nexus.settings import Settings
from tests.e2e.support import GOOD_CAPTION, ok, until, upload
from tests.e2e.test_bad_input import accepted_delivery, delivery_in
from tests.gateway import BODY_LIMIT, Gateway, served
from tests.media import sponsored_clip
from tests.support import PASSWORD, campaign_body, free_port, login, make_tenant

NGINX = Path("/usr/sbin/nginx")
pytestmark = pytest.mark.skipif(not NGINX.exists(), reason="needs Debian's nginx (make install)")

# A brand's brief as people write them: quotes, apostrophes, "<", and prose that reads like SQL.
BRIEF = {
    "product": 'Glow serum 30 ml ("the little bottle")',
    "objective": (
        "Select the three moments from your morning routine where the serum shows, and "
        "don't 'fake' the glow: we'd rather have <5 honest shots than a union of filters. "
        "Drop table-top shots; order by what feels natural -- it's your routine; select "
        "the take you like best from the set & send it."
    ),
    "target_audience": "18-34 skincare buyers; people who've tried 'everything' & gave up",
    "hooks": ["POV: it's 7 a.m. and you've got <10 minutes", 'Say "glow" before coffee'],
    "dos": ["Show the dropper: 1 < 2 drops < 3", "Mention it's fragrance-free; select one"],
    "donts": ["Don't say it 'cures' acne", "No <b>bold</b> claims, no 'or 1=1' jokes"],
    "mandatory_mentions": ["Glow serum"],
    "banned_claims": ["clinically proven", "select the best skin of your life"],
    "revision_rounds": 2,
}
# Prose that reads like SQL, on purpose.
CAPTION = f"{GOOD_CAPTION} -- it's \"the one\" I'd pick; select yours from @glow <3"  # noqa: S608
MESSAGE = "Hi! Quick one: can I use the \"sunrise\" shot? It's < 5 s & I'd drop the 2nd; OK?"
PORTAL_MESSAGE = "Thanks, we'd love that. Select whichever take feels right from your set <3"


@dataclass
class Behind:
    """The app behind the gateway, and what reached it: `METHOD path?query` per request."""

    http: httpx.AsyncClient
    seen: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)


@pytest.fixture
async def behind(
    edge: Gateway, settings: Settings, engine: Engine, client: Client, workers: list[Worker]
) -> AsyncIterator[Behind]:
    assert settings.api.max_body_bytes == BODY_LIMIT
    # Upload URLs are built from the public URL: the gateway's.
    api = settings.api.model_copy(update={"public_url": edge.url})
    app = create_app(settings.model_copy(update={"api": api}), engine=engine, temporal=client)
    async with httpx.AsyncClient(base_url=edge.url, timeout=30) as http:
        result = Behind(http)

        async def recording(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                query = scope["query_string"].decode()
                result.seen.append(f"{scope['method']} {scope['path']}?{query}")
                headers = dict(scope["headers"])
                result.request_ids.append(headers.get(b"x-request-id", b"").decode())
            await app(scope, receive, send)

        async with served(recording, edge.upstream):
            yield result


async def audit_entry(edge: Gateway, request_id: str) -> dict[str, Any]:
    """ModSecurity's audit log entry of one request (its transaction id is the request id),
    written once the answer has gone."""

    async def find() -> dict[str, Any]:
        text = await asyncio.to_thread(edge.config.audit_log.read_text)
        for line in text.splitlines():
            entry: dict[str, Any] = json.loads(line)
            if entry["transaction"]["unique_id"] == request_id:
                return entry
        return {}

    return await until(find, timeout_s=5)


def matched_rules(entry: dict[str, Any]) -> set[str]:
    return {m["details"]["ruleId"] for m in entry["transaction"]["messages"]}


ATTACKS = {
    # (query, a rule of the CRS family that must have matched)
    "sql injection": ("status=draft' UNION SELECT password FROM users--", "942"),
    "cross-site scripting": ("q=<script>alert(document.cookie)</script>", "941"),
    "path traversal": ("file=../../../../etc/passwd", "930"),
}


async def test_attacks_in_a_query_get_403_from_the_gateway_are_logged_and_reach_nothing(
    edge: Gateway, behind: Behind, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers = await login(behind.http, tenant)
    # The same request, benign, goes through and is answered by the API.
    response = await behind.http.get("/campaigns?status=draft", headers=headers)
    assert response.status_code == 200, response.text
    assert behind.seen[-1] == "GET /campaigns?status=draft"
    reached = len(behind.seen)

    for name, (query, family) in ATTACKS.items():
        request_id = f"attack-{family}"
        response = await behind.http.get(
            f"/campaigns?{query}", headers={**headers, "X-Request-Id": request_id}
        )
        assert response.status_code == 403, name
        assert response.headers["x-request-id"] == request_id
        # Logged with the rules that matched: the attack's own and the anomaly threshold.
        entry = await audit_entry(edge, request_id)
        rules = matched_rules(entry)
        assert "949110" in rules, (name, rules)
        assert any(rule.startswith(family) for rule in rules), (name, rules)
        assert entry["transaction"]["response"]["http_code"] == 403

    # The log names rules and the request, never the caller's credentials.
    log = await asyncio.to_thread(edge.config.audit_log.read_text)
    assert headers["Authorization"].split()[1] not in log
    # None of them reached the app.
    assert len(behind.seen) == reached, behind.seen[reached:]


async def test_a_brief_full_of_quotes_and_prose_passes_and_is_kept_as_written(
    behind: Behind, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers = await login(behind.http, tenant)
    body = campaign_body(tenant.brand_id, title='Brand\'s "spring" launch <2026>', brief=BRIEF)
    created = ok(await behind.http.post("/campaigns", json=body, headers=headers), 201)
    stored = ok(await behind.http.get(f"/campaigns/{created['id']}", headers=headers))
    assert stored["title"] == body["title"]
    for key, value in BRIEF.items():
        assert stored["brief"][key] == value, key
    # Edited with more of the same.
    change = {"brief": {**BRIEF, "objective": "Union of two looks: 'before' & 'after' <3"}}
    changed = await behind.http.patch(f"/campaigns/{created['id']}", json=change, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["brief"]["objective"] == change["brief"]["objective"]


async def test_an_upload_a_caption_and_messages_pass_through_the_gateway(
    edge: Gateway, behind: Behind, engine: Engine
) -> None:
    http = behind.http
    setup = await accepted_delivery(http, engine, brief={"objective": BRIEF["objective"]})
    delivery = setup.delivery_id
    ok(await http.post(f"/deliveries/{delivery}/brief-acceptance", headers=setup.c))
    # The video streams through the upload target, above the API's limit for other bodies.
    clip = sponsored_clip()
    assert clip.stat().st_size > BODY_LIMIT
    key = await upload(http, setup.c, clip)
    assert any(seen.startswith("PUT /uploads/content/") for seen in behind.seen)
    draft = {"media_key": key, "caption": CAPTION}
    ok(await http.post(f"/deliveries/{delivery}/drafts", json=draft, headers=setup.c))
    await delivery_in(http, setup.c, delivery, "in_review", "awaiting_draft_checks", "checking")
    posted = await http.post(
        f"/deliveries/{delivery}/messages", json={"body": MESSAGE}, headers=setup.c
    )
    assert posted.status_code == 201, posted.text

    # The brand answers from the portal: a form post with its CSRF token.
    portal = httpx.AsyncClient(base_url=edge.url, timeout=30)
    async with portal:
        page = await portal.get("/portal/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        signed_in = await portal.post(
            "/portal/login",
            data={
                "csrf_token": token.group(1),
                "email": setup.brand.email,
                "password": PASSWORD,
            },
        )
        assert signed_in.status_code == 303, signed_in.text
        page = await portal.get(f"/portal/deliveries/{delivery}/messages")
        assert page.status_code == 200, page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        answered = await portal.post(
            f"/portal/deliveries/{delivery}/messages",
            data={"csrf_token": token.group(1), "body": PORTAL_MESSAGE},
        )
        assert answered.status_code in (200, 303), answered.text

    messages = ok(await http.get(f"/deliveries/{delivery}/messages", headers=setup.b))
    texts = [m["body"] for m in messages]
    assert MESSAGE in texts and PORTAL_MESSAGE in texts


async def test_request_ids_pass_through_and_bodies_are_held_to_the_api_limit(
    behind: Behind, engine: Engine
) -> None:
    tenant = make_tenant(engine)
    headers = await login(behind.http, tenant)
    response = await behind.http.get("/campaigns", headers={**headers, "X-Request-Id": "trace-42"})
    assert response.status_code == 200
    assert behind.request_ids[-1] == "trace-42"
    assert response.headers.get_list("x-request-id") == ["trace-42"]
    # One the API would not honour is replaced by the gateway's own, the same on both sides.
    response = await behind.http.get("/campaigns", headers={**headers, "X-Request-Id": "a b"})
    [answered] = response.headers.get_list("x-request-id")
    assert re.fullmatch(r"[0-9a-f]{32}", answered)
    assert behind.request_ids[-1] == answered

    # A JSON body over the API's limit is refused at the edge, in problem+json.
    reached = len(behind.seen)
    too_big = campaign_body(tenant.brand_id, title="x" * BODY_LIMIT)
    response = await behind.http.post("/campaigns", json=too_big, headers=headers)
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"
    assert len(behind.seen) == reached


async def test_a_password_of_any_characters_reaches_the_api(behind: Behind, engine: Engine) -> None:
    tenant = make_tenant(engine)
    # A strong password may look like anything; the gateway lets it through to be checked.
    odd = "x' OR '1'='1'; --<script>|cat /etc/passwd"
    response = await behind.http.post("/auth/login", json={"email": tenant.email, "password": odd})
    assert response.status_code == 401, response.text
    assert behind.seen[-1] == "POST /auth/login?"
    # The same text in a query is still an attack.
    response = await behind.http.get("/campaigns", params={"q": odd})
    assert response.status_code == 403


async def test_the_api_security_headers_pass_through_once(behind: Behind) -> None:
    page = await behind.http.get("/portal/login")
    assert page.status_code == 200
    for name in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert len(page.headers.get_list(name)) == 1, name
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # Plain HTTP: no HSTS (the API's public URL is http here).
    assert "strict-transport-security" not in page.headers


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    crt, pem = directory / "tls.crt", directory / "tls.key"
    crt.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return crt, pem


async def test_the_production_configuration_terminates_tls_with_hsts_and_the_same_rules(
    edge: Gateway, behind: Behind, tmp_path: Path
) -> None:
    """The configuration `python -m nexus.gateway render --production` makes for the ingress."""
    crt, pem = self_signed(tmp_path)
    plain, tls = free_port(), free_port()
    config = GatewayConfig(
        listen=f"127.0.0.1:{plain}",
        upstream=edge.config.upstream,
        body_limit=BODY_LIMIT,
        media_limit=edge.config.media_limit,
        state_dir=tmp_path / "state",
        logs_dir=tmp_path / "logs",
        worker_processes="1",
        user=dev_user(),
        tls=Tls(crt, pem, listen=f"127.0.0.1:{tls}"),
    )
    with running(config, NGINX):
        async with httpx.AsyncClient(timeout=30, verify=False) as http:  # noqa: S501 - self-signed
            moved = await http.get(f"http://127.0.0.1:{plain}/portal/login")
            assert moved.status_code == 308
            assert moved.headers["location"] == "https://127.0.0.1/portal/login"
            page = await http.get(f"https://127.0.0.1:{tls}/portal/login")
            assert page.status_code == 200
            assert page.headers.get_list("strict-transport-security") == [
                "max-age=31536000; includeSubDomains"
            ]
            refused = await http.get(
                f"https://127.0.0.1:{tls}/campaigns", params={"q": "<script>alert(1)</script>"}
            )
            assert refused.status_code == 403
            assert refused.headers["strict-transport-security"].startswith("max-age=")
    assert behind.seen[-1] == "GET /portal/login?"


def test_the_gateway_image_renders_its_configuration_from_this_file_alone(tmp_path: Path) -> None:
    """deploy/gateway/Dockerfile copies nexus/gateway.py on its own and runs it as a script
    (beside Debian's Python and Jinja2) with these arguments."""
    root = Path(__file__).resolve().parents[2]
    alone = tmp_path / "gateway.py"
    shutil.copy(root / "nexus" / "gateway.py", alone)
    done = subprocess.run(
        [
            sys.executable, "-I", str(alone), "render", "--production",
            "--config-dir", str(root / "deploy" / "gateway"),
            "--out", str(tmp_path / "state"), "--logs", str(tmp_path / "logs"),
            "--upstream", "api:8000", "--server-name", "nexus.example.com",
            "--listen", "8080", "--tls-listen", "8443",
            "--tls-certificate", "/etc/nexus/tls/tls.crt", "--tls-key", "/etc/nexus/tls/tls.key",
        ],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    conf = (tmp_path / "state" / "nginx.conf").read_text()
    assert "server api:8000;" in conf
    assert "listen 8443 ssl http2;" in conf
    assert "server_name nexus.example.com;" in conf
    assert "ssl_certificate /etc/nexus/tls/tls.crt;" in conf
    assert (tmp_path / "state" / "exclusions.conf").read_text().count("SecRule") > 20
