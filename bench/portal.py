"""Portal render time: the brand's review queue and the creator's task list, against /healthz.

Run by hand from the repository root (never in CI):

    .venv/bin/python bench/portal.py  # --campaigns 1000 --requests 300

It starts a throwaway PostgreSQL cluster and the Temporal dev server on free 127.0.0.1 ports,
the CPU worker in this process, and the API app in this process (served over httpx's ASGI
transport, so the figures are the server's time to answer, without a network hop). It seeds the
demo workspaces, drives one real campaign through the API up to a running delivery (create,
fund by bank transfer, ops confirm, publish, the demo creator applies, the brand accepts), then
writes N more campaigns straight into the brand's workspace, each with one delivery of the
demo creator waiting in review. Signed in through the portal's own form, it then requests,
interleaved call by call:

1. /healthz (the baseline: the app and its middleware alone);
2. /portal/reviews as the brand admin: the review queue (its first page of deliveries in
   review, nearest review deadline first, with campaign titles);
3. /portal/deliveries/{id} as the creator: the guided task list of the real delivery (a
   PostgreSQL read plus a DeliveryWorkflow query).

It prints exactly one JSON line on stdout with p50/p99 (ms) per target, the p99 ratio of each
page to /healthz, and whether each page meets the target (p99 < 150 ms); progress goes to
stderr. Everything it started is stopped, even on failure or Ctrl-C.

Caveat: the client, the app, the worker, PostgreSQL and Temporal share the machine (2 cores
here): compare the ratio, and only between runs on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.security import hash_password
from domain.enums import (
    ApplicationOrigin,
    ApplicationStatus,
    CampaignStage,
    DeliverableFormat,
    DeliveryStage,
)
from models import brands, creators
from models.applications import Application
from models.campaigns import Brief, Campaign, Deliverable
from models.db import session_scope
from models.deliveries import Delivery
from models.migrate import upgrade_to_head
from models.seed import DEMO_PASSWORD, seed_demo
from models.workspaces import find_user_by_email, memberships_of
from nexus.postgres import LocalPostgres, PostgresError
from nexus.settings import Settings
from workers.cpu.main import build_worker
from workflows import search_attributes

TARGET_P99_MS = 150.0
DB = "nexus_bench_portal"
BRAND, OPS, CREATOR = "admin@glow.demo", "ops@nexus.demo", "maya@creators.demo"


def log(message: str) -> None:
    print(f"[portal] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    return sorted_values[max(1, math.ceil(q / 100 * len(sorted_values))) - 1]


def ok(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url.path}: {response.status_code} {response.text}")
    return response.json()


async def bearer(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    body = ok(await http.post("/auth/login", json={"email": email, "password": DEMO_PASSWORD}))
    return {"Authorization": f"Bearer {body['access_token']}"}


async def real_delivery(http: httpx.AsyncClient) -> str:
    """One campaign through the API up to a delivery whose process is running."""
    brand = await bearer(http, BRAND)
    brand_id = ok(await http.get("/brands", headers=brand))[0]["id"]
    body = {
        "brand_id": brand_id, "title": "Real campaign",
        "budget": {"amount_minor": 500_000, "currency": "USD"},
        "brief": {
            "product": "Glow serum 30 ml", "objective": "Awareness", "target_niches": ["beauty"],
            "application_deadline": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
        "deliverables": [{"format": "video_9x16", "quantity": 1, "price_minor": 100_000}],
    }  # fmt: skip
    cid = ok(await http.post("/campaigns", json=body, headers=brand), 201)["id"]
    funding = ok(
        await http.post(
            f"/campaigns/{cid}/fundings", json={"method": "bank_transfer"}, headers=brand
        ),
        201,
    )
    ops = await bearer(http, OPS)
    ok(await http.post(f"/ops/fundings/{funding['id']}/confirm", headers=ops))
    ok(await http.post(f"/campaigns/{cid}/publish", headers=brand))
    creator = await bearer(http, CREATOR)
    [listing] = ok(await http.get("/marketplace/campaigns", headers=creator))
    apply = {
        "deliverable_id": listing["deliverables"][0]["id"],
        "pitch": "Me",
        "price_minor": 90_000,
    }
    application = ok(
        await http.post(f"/marketplace/campaigns/{cid}/applications", json=apply, headers=creator),
        201,
    )
    decided = ok(
        await http.post(
            f"/campaigns/{cid}/applications/{application['id']}/decision",
            json={"action": "accept"},
            headers=brand,
        )
    )
    delivery_id = str(decided["delivery_id"])
    for _ in range(100):
        response = await http.get(f"/deliveries/{delivery_id}", headers=creator)
        if response.status_code == 200 and response.json()["live"]:
            return delivery_id
        await asyncio.sleep(0.1)
    raise RuntimeError("the delivery process did not answer")


def bulk_campaigns(engine: Engine, count: int) -> None:
    """`count` campaigns in the brand's workspace, each with a delivery waiting in review."""
    with session_scope(engine) as session:
        user = find_user_by_email(session, BRAND)
        creator_user = find_user_by_email(session, CREATOR)
        assert user is not None and creator_user is not None
        [brand] = brands.list_brands(session, memberships_of(session, user.id)[0][1].id)
        profile = creators.profile_of_user(session, creator_user.id)
        assert profile is not None
        now, ws = datetime.now(UTC), brand.workspace_id
        # No ORM relationships order the inserts: one table at a time, parents first.
        tables: list[list[Any]] = [[], [], [], []]
        for n in range(count):
            cid, did, aid, vid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            tables[0].append(Campaign(
                id=cid, workspace_id=ws, brand_id=brand.id, title=f"Bench campaign {n}",
                stage=CampaignStage.IN_PRODUCTION, currency="USD", budget_minor=500_000,
                created_by=user.id,
            ))  # fmt: skip
            tables[1] += [
                Brief(campaign_id=cid, workspace_id=ws, product="Glow", objective="x"),
                Deliverable(
                    id=did, campaign_id=cid, workspace_id=ws,
                    format=DeliverableFormat.VIDEO_9_16, price_minor=100_000,
                ),
            ]  # fmt: skip
            tables[2].append(Application(
                id=aid, campaign_id=cid, workspace_id=ws, deliverable_id=did,
                creator_id=profile.id, origin=ApplicationOrigin.APPLICATION,
                status=ApplicationStatus.ACCEPTED, price_minor=100_000, delivery_id=vid,
            ))  # fmt: skip
            tables[3].append(Delivery(
                id=vid, campaign_id=cid, workspace_id=ws, deliverable_id=did,
                creator_id=profile.id, application_id=aid, stage=DeliveryStage.IN_REVIEW,
                price_minor=100_000, currency="USD",
                review_due_at=now + timedelta(hours=n % 72),
            ))  # fmt: skip
        for rows in tables:
            session.add_all(rows)
            session.flush()


async def portal_session(app: Any, email: str) -> httpx.AsyncClient:
    """A client signed in through the portal's own form (session and CSRF cookies)."""
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://portal")
    page = await http.get("/portal/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    data = {"email": email, "password": DEMO_PASSWORD, "csrf_token": csrf.group(1)}
    signed = await http.post("/portal/login", data=data)
    if signed.status_code != 303:
        raise RuntimeError(f"portal sign-in failed: {signed.status_code}")
    return http


async def timed(http: httpx.AsyncClient, path: str, into: list[float], marker: str) -> None:
    began = time.perf_counter()
    response = await http.get(path)
    into.append(time.perf_counter() - began)
    if response.status_code != 200 or marker not in response.text:
        raise RuntimeError(f"GET {path}: {response.status_code}")


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
    }


async def bench(args: argparse.Namespace, database_url: str, root: Path) -> dict[str, Any]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.prefix) / "bin" / "temporal"),
        search_attributes=search_attributes.ALL,
        data_converter=pydantic_data_converter,
    )
    engine = create_engine(database_url, pool_size=5)
    settings = Settings(
        database={"url": database_url},
        temporal={"address": env.client.service_client.config.target_host, "task_queue": "bench"},
        storage={"root": root / "objects"},
    )
    clients: list[httpx.AsyncClient] = []
    try:
        with session_scope(engine) as session:
            seed_demo(session, hash_password)
        app = create_app(settings, engine=engine, temporal=env.client)
        async with build_worker(env.client, settings, engine):
            api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
            clients.append(api)
            delivery_id = await real_delivery(api)
            log(f"real delivery {delivery_id} running; writing {args.campaigns} campaigns")
            began = time.perf_counter()
            await asyncio.to_thread(bulk_campaigns, engine, args.campaigns)
            log(f"written in {time.perf_counter() - began:.1f}s")
            brand = await portal_session(app, BRAND)
            creator = await portal_session(app, CREATOR)
            clients += [brand, creator]
            times: dict[str, list[float]] = {"healthz": [], "review_queue": [], "task_list": []}
            for i in range(args.warmup + args.requests):
                into = times if i >= args.warmup else {k: [] for k in times}
                await timed(api, "/healthz", into["healthz"], "")
                await timed(brand, "/portal/reviews", into["review_queue"], "Bench campaign")
                await timed(
                    creator, f"/portal/deliveries/{delivery_id}", into["task_list"], "Steps"
                )
    finally:
        for http in clients:
            await http.aclose()
        engine.dispose()
        await env.shutdown()
    figures = {name: summary(values) for name, values in times.items()}
    base = figures["healthz"]["p99_ms"]
    return {
        "bench": "portal",
        "campaigns": args.campaigns + 1,
        "requests": args.requests,
        **figures,
        "ratio_p99": {
            page: round(figures[page]["p99_ms"] / base, 1) for page in ("review_queue", "task_list")
        },
        "target_p99_ms": TARGET_P99_MS,
        "met": {
            page: figures[page]["p99_ms"] < TARGET_P99_MS for page in ("review_queue", "task_list")
        },
        "cpus": os.cpu_count(),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--campaigns", type=int, default=1000, help="campaigns written (1000)")
    parser.add_argument("--requests", type=int, default=300, help="measured per target (300)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured rounds first (20)")
    args = parser.parse_args(argv)
    if args.campaigns < 1 or args.requests < 1 or args.warmup < 0:
        parser.error("--campaigns and --requests must be >= 1, --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The Temporal dev server prints its banner to the stdout it inherits: send everything
    # but the one JSON line to stderr.
    report_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    # Not under a 0700 directory: as root the server runs as `postgres`, which must reach it.
    root = Path(tempfile.mkdtemp(prefix="nexus-bench-portal-"))
    root.chmod(0o755)
    cluster = LocalPostgres(root / "data", free_port(), durable=False)
    ok_run = False
    try:
        log("starting PostgreSQL")
        cluster.init()
        cluster.start()
        cluster.ensure_database(DB, "nexus", "nexus")
        url = f"postgresql+psycopg://nexus:nexus@127.0.0.1:{cluster.port}/{DB}"
        upgrade_to_head(url)
        report = asyncio.run(bench(args, url, root))
        print(json.dumps(report, separators=(",", ":")), file=report_out, flush=True)
        ok_run = True
    except (PostgresError, RuntimeError, httpx.HTTPError) as exc:
        log(f"failed: {type(exc).__name__}: {exc}")
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0 if ok_run else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal SDK runtime may abort during interpreter teardown (sdk-python#300).
    os._exit(code)
