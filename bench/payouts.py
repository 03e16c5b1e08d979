"""Payout throughput: creator payouts completed per second through the whole PayoutWorkflow
saga (reserve in the ledger, find the creator's connected account, Stripe transfer with its
idempotency key, record the payment, notify) against a bare Temporal baseline running the
same number of no-op activities per process, in the same run.

Run by hand from the repository root (never in CI):

    .venv/bin/python bench/payouts.py  # --payouts 100 --concurrency 20

It starts the Stripe emulator the tests use (tests/payments/stripe_emulator.py: localstripe
plus Connect, 127.0.0.1, private state) and the whole embedded dev stack on free ports with
Stripe as the payment provider.
Then, as the demo brand admin it creates a campaign and funds it by bank transfer that the
demo ops user confirms; the three demo creators open Stripe Connect accounts through the API,
finish onboarding at the emulator, and Stripe's signed `account.updated` webhooks reach the
API, which handles them in a process of their own (the bench waits for it). The bench starts
N payouts the way approvals start them (at most C at a time) and waits for each to be paid;
then N bare processes. It checks that Stripe holds exactly one transfer
per payout. One JSON line on stdout; progress on stderr; the stack is always stopped.

Caveat: load generator, emulator, stack and baseline worker share the machine (2 cores
here): compare the ratio, and only between runs on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    import httpx
    import stripe

    from models import money
    from models.creators import profile_of_user
    from models.db import make_engine, session_scope
    from models.seed import DEMO_PASSWORD
    from models.workspaces import find_user_by_email
    from nexus.devstack import DevStack, StackError, free_ports, isolated_environment
    from nexus.settings import Settings
    from nexus.temporal import connect
    from workflows.contracts.payouts import PayoutRequest
    from workflows.payout import PayoutWorkflow
    from workflows.payout import workflow_id as payout_workflow_id
    from workflows.task_queues import cpu_queue

CREATORS = ("maya@creators.demo", "tom@creators.demo", "ines@creators.demo")
PRICE = 5_000
NOTE = "2 cores shared by load generator, Stripe emulator, API, Temporal, workers, PostgreSQL"


# The emulator's API key and the webhook secret the stack verifies with (bench-only values).
STRIPE_KEY = "sk_test_nexus_bench"
WEBHOOK_SECRET = "whsec_nexus_bench"  # noqa: S105


def stripe_get(base: str, path: str) -> Any:
    response = httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {STRIPE_KEY}"})
    response.raise_for_status()
    return response.json()


def finish_onboarding(base: str, account_ref: str) -> None:
    """The emulator's stand-in for the creator completing Stripe's onboarding forms."""
    response = httpx.post(
        f"{base}/_test/accounts/{account_ref}/enable",
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
    )
    response.raise_for_status()


def signed_account_update(account_ref: str) -> tuple[bytes, str]:
    """Stripe's `account.updated` webhook, signed the way Stripe signs it."""
    now = int(time.time())
    payload = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "created": now,
            "type": "account.updated",
            "data": {"object": {"id": account_ref, "payouts_enabled": True}},
        }
    )
    signature = stripe.WebhookSignature._compute_signature(f"{now}.{payload}", WEBHOOK_SECRET)
    return payload.encode(), f"t={now},v1={signature}"


def log(message: str) -> None:
    print(f"[payouts] {message}", file=sys.stderr, flush=True)


@activity.defn(name="bench.payout_noop")
async def noop_activity() -> None:
    return None


@workflow.defn(name="BenchBarePayout")
class BareProcess:
    @workflow.run
    async def run(self, activities: int) -> int:
        for _ in range(activities):
            await workflow.execute_activity(
                noop_activity, start_to_close_timeout=timedelta(seconds=30)
            )
        return activities


def start_emulator(state: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_ports(1)[0]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.payments.stripe_emulator", "--port", str(port),
         "--state", str(state)],
        cwd=Path(__file__).resolve().parent.parent,  # `tests` is importable from the root
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            stripe_get(base, "/v1/transfers")
            return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the Stripe emulator did not start")


async def login(http: httpx.AsyncClient, email: str) -> tuple[dict[str, str], uuid.UUID]:
    response = await http.post("/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    response.raise_for_status()
    token = response.json()
    return {"Authorization": f"Bearer {token['access_token']}"}, uuid.UUID(token["workspace_id"])


def creator_ids(settings: Settings, email: str) -> tuple[uuid.UUID, uuid.UUID]:
    engine = make_engine(settings.database)
    try:
        with session_scope(engine) as session:
            user = find_user_by_email(session, email)
            profile = profile_of_user(session, user.id) if user else None
            assert user is not None and profile is not None, email
            return profile.id, user.id
    finally:
        engine.dispose()


async def onboarded(settings: Settings, creator_id: uuid.UUID, timeout_s: float = 30) -> None:
    """Wait until the webhook took effect: its PaymentEventWorkflow runs after the answer, and
    a payout started before that would wait for the creator's account."""
    engine = make_engine(settings.database)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            with session_scope(engine) as session:
                account = money.payout_account(session, creator_id)
                if account is not None and account.payouts_enabled:
                    return
            await asyncio.sleep(0.1)
    finally:
        engine.dispose()
    raise RuntimeError(f"the account.updated webhook of creator {creator_id} was not handled")


async def prepare(
    http: httpx.AsyncClient, settings: Settings, stripe_base: str, payouts: int
) -> tuple[uuid.UUID, uuid.UUID, list[tuple[uuid.UUID, uuid.UUID]]]:
    """A campaign funded for every payout, and three creators able to receive transfers."""
    (brand, workspace_id), (ops, _) = (
        await login(http, "admin@glow.demo"),
        await login(http, "ops@nexus.demo"),
    )
    brand_id = (await http.get("/brands", headers=brand)).json()[0]["id"]
    body = {
        "brand_id": brand_id,
        "title": "Payout bench",
        "budget": {"amount_minor": payouts * PRICE, "currency": "USD"},
        "brief": {"product": "Glow serum 30 ml", "objective": "Bench"},
        "deliverables": [{"format": "video_9x16", "quantity": 1, "price_minor": PRICE}],
    }
    campaign = (await http.post("/campaigns", json=body, headers=brand)).json()
    funding = await http.post(
        f"/campaigns/{campaign['id']}/fundings", json={"method": "bank_transfer"}, headers=brand
    )
    funding.raise_for_status()
    confirmed = await http.post(f"/ops/fundings/{funding.json()['id']}/confirm", headers=ops)
    confirmed.raise_for_status()
    creators = []
    for email in CREATORS:
        headers, _ = await login(http, email)
        account = (await http.post("/creator/payout-account", headers=headers)).json()
        finish_onboarding(stripe_base, account["account_ref"])
        body_bytes, signature = signed_account_update(account["account_ref"])
        hook = await http.post(
            "/webhooks/stripe", content=body_bytes, headers={"Stripe-Signature": signature}
        )
        hook.raise_for_status()
        creators.append(creator_ids(settings, email))
        await onboarded(settings, creators[-1][0])
    return uuid.UUID(campaign["id"]), workspace_id, creators


def activity_count(events: Any) -> int:
    """Activities and local activities (markers) one workflow ran."""
    count = 0
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            count += 1
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            count += event.marker_recorded_event_attributes.marker_name == "core_local_activity"
    return count


async def timed(concurrency: int, jobs: list[Any]) -> tuple[float, list[Any]]:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Any) -> Any:
        async with gate:
            return await job()

    began = time.perf_counter()
    results = await asyncio.gather(*(one(j) for j in jobs))
    return time.perf_counter() - began, list(results)


async def bench(settings: Settings, stripe_base: str, args: argparse.Namespace) -> dict[str, Any]:
    client = await connect(settings.temporal)
    async with httpx.AsyncClient(base_url=settings.api.public_url, timeout=30.0) as http:
        campaign_id, workspace_id, creators = await prepare(
            http, settings, stripe_base, args.payouts
        )
    queue = cpu_queue(settings.temporal.task_queue)

    def payout(n: int) -> Any:
        creator_id, user_id = creators[n % len(creators)]
        payout_id = f"bench-{uuid.uuid4()}"

        async def run() -> str:
            return (
                await client.execute_workflow(
                    PayoutWorkflow.run,
                    PayoutRequest(
                        payout_id=payout_id, workspace_id=workspace_id, campaign_id=campaign_id,
                        creator_id=creator_id, creator_user_id=user_id, amount_minor=PRICE,
                        currency="USD", reason="delivery", source_id=payout_id,
                    ),
                    id=payout_workflow_id(payout_id),
                    task_queue=queue,
                    execution_timeout=timedelta(minutes=5),
                )
            ).status  # fmt: skip

        run.payout_id = payout_id  # type: ignore[attr-defined]
        return run

    jobs = [payout(n) for n in range(args.payouts)]
    log(f"platform: {args.payouts} payouts, concurrency {args.concurrency}")
    elapsed, statuses = await timed(args.concurrency, jobs)
    if Counter(statuses) != {"paid": args.payouts}:
        raise RuntimeError(f"not every payout was paid: {Counter(statuses)}")
    transfers = Counter(
        t["transfer_group"] for t in stripe_get(stripe_base, "/v1/transfers")["data"]
    )
    if sorted(transfers.values()) != [1] * args.payouts:
        raise RuntimeError(f"transfers do not match payouts one to one: {transfers}")
    history = await client.get_workflow_handle(
        payout_workflow_id(jobs[0].payout_id)
    ).fetch_history()
    activities = activity_count(history.events)
    platform = {"payouts_per_s": round(args.payouts / elapsed, 3), "wall_s": round(elapsed, 2)}
    log(f"platform: {platform}; {activities} activities per payout")

    bare_queue = f"bench-bare-{uuid.uuid4().hex[:12]}"
    async with Worker(
        client, task_queue=bare_queue, workflows=[BareProcess], activities=[noop_activity]
    ):
        bare = [
            (lambda i=i: client.execute_workflow(
                BareProcess.run, activities, id=f"{bare_queue}-{i}", task_queue=bare_queue
            ))
            for i in range(args.payouts)
        ]  # fmt: skip
        log(f"baseline: {args.payouts} bare processes x {activities} no-op activities")
        bare_elapsed, _ = await timed(args.concurrency, bare)
    baseline = {
        "processes_per_s": round(args.payouts / bare_elapsed, 3),
        "wall_s": round(bare_elapsed, 2),
    }
    log(f"baseline: {baseline}")
    return {
        "bench": "payouts",
        "payouts": args.payouts,
        "concurrency": args.concurrency,
        "activities_per_payout": activities,
        "platform": platform,
        "baseline": baseline,
        "ratio": round(platform["payouts_per_s"] / baseline["processes_per_s"], 3),
        "note": NOTE,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--payouts", type=int, default=100, help="payouts per phase (100)")
    parser.add_argument("--concurrency", type=int, default=20, help="payouts at once (20)")
    args = parser.parse_args(argv)
    if min(args.payouts, args.concurrency) < 1:
        parser.error("--payouts and --concurrency must be >= 1")
    state_dir = Path(tempfile.mkdtemp(prefix="nexus-bench-payouts-"))
    state_dir.chmod(0o755)
    emulator, stripe_base = start_emulator(state_dir)
    os.environ.update(isolated_environment(state_dir))
    os.environ.update(
        {
            "NEXUS_PAYMENTS__PROVIDER": "stripe",
            "NEXUS_PAYMENTS__STRIPE_API_KEY": STRIPE_KEY,
            "NEXUS_PAYMENTS__STRIPE_API_BASE": stripe_base,
            "NEXUS_PAYMENTS__STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
    )
    settings = Settings()
    stack = DevStack(settings)
    ok = False
    try:
        log(f"starting the stack (state in {state_dir})")
        stack.start()
        print(json.dumps(asyncio.run(bench(settings, stripe_base, args))), flush=True)
        ok = True
    except StackError as exc:
        log(f"the stack did not start: {exc}")
    except (httpx.HTTPError, RuntimeError) as exc:
        log(f"failed: {type(exc).__name__}: {exc}")
    finally:
        stack.stop()
        emulator.terminate()
        emulator.wait(10)
        if ok:
            shutil.rmtree(state_dir, ignore_errors=True)
        else:
            log(f"state and logs kept in {state_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal SDK may abort at interpreter teardown in a client-only process
    # (sdk-python#300): everything is reported and stopped, so leave now.
    os._exit(code)
