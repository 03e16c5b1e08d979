"""The chaos harness that bench/chaos.py and tests/e2e/test_chaos.py share.

It runs the embedded dev stack as `nexus up` does (PostgreSQL, the Temporal dev server with its
database file, the CPU and GPU workers and the API, each its own OS process) and drives
journeys through the public HTTP API the way clients do: a request answered 503, or cut off,
is repeated with the same Idempotency-Key, and a step whose answer was lost is confirmed by
reading the resource. Meanwhile a monkey SIGKILLs the workers and stops Temporal (the
supervisor of `nexus up` starts them again) and restarts PostgreSQL at random moments.

Afterwards it audits what happened, from PostgreSQL, the e-mails the stack sent and Temporal's
visibility: journeys that never reached their end state, workflows left running or failed,
effects done twice (payouts, transfers, ledger entries, e-mails, notifications, publications)
and ledger violations.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any, Literal

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine, create_engine, text
from temporalio.client import Client, WorkflowExecutionStatus

from domain import ledger
from models import money
from models.db import session_scope
from models.seed import DEMO_PASSWORD
from nexus.devstack import DevStack, free_ports, isolated_environment
from nexus.settings import Settings
from nexus.supervisor import Supervisor
from tests.e2e.support import GOOD_CAPTION
from tests.media import video

Kind = Literal["payout", "license_fee", "moderation"]
KINDS: tuple[Kind, ...] = ("payout", "license_fee", "moderation")
Action = Literal["kill_cpu", "kill_gpu", "restart_temporal", "restart_postgres"]
ACTIONS: tuple[Action, ...] = ("kill_cpu", "kill_gpu", "restart_temporal", "restart_postgres")
CREATORS = ("maya@creators.demo", "tom@creators.demo", "ines@creators.demo")
PRICE = 90_000
FEE = 40_000
# No exclusivity: the three demo creators take part in every campaign of the demo brand.
RIGHTS = {
    "channels": ["organic_social", "paid_social"],
    "platforms": ["TikTok"],
    "territories": ["US"],
    "term_days": 90,
}


def log(message: str) -> None:
    print(f"[chaos] {message}", file=sys.stderr, flush=True)


# -- e-mail: an SMTP server of our own, keeping what the stack sends ------------------------


class Mailbox:
    """The stack's SMTP server: every e-mail received, by Message-ID."""

    def __init__(self) -> None:
        self.message_ids: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message_id = str(message_from_bytes(content).get("Message-ID", "(none)"))
        with self._lock:
            self.message_ids[message_id] += len(envelope.rcpt_tos)
        return "250 OK"

    def duplicates(self) -> int:
        with self._lock:
            return sum(n - 1 for n in self.message_ids.values() if n > 1)

    def received(self) -> int:
        with self._lock:
            return sum(self.message_ids.values())


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_ports(1)[0]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


# -- the stack and the monkey ------------------------------------------------------------------


def chaos_environment(state_dir: Path, smtp_port: int) -> dict[str, str]:
    """NEXUS_* variables of a stack of its own (free ports, its own state directory) that
    e-mails through `smtp_port`; the stack's processes read them from the environment."""
    return {
        **isolated_environment(state_dir),
        "NEXUS_NOTIFICATIONS__SMTP_HOST": "127.0.0.1",
        "NEXUS_NOTIFICATIONS__SMTP_PORT": str(smtp_port),
        "NEXUS_NOTIFICATIONS__SMTP_STARTTLS": "false",
        # Test clips are tiny: the fastest presets keep moderation short.
        "NEXUS_MEDIA__X264_PRESET": "ultrafast",
        "NEXUS_MEDIA__LADDER_PRESET": "ultrafast",
    }


def new_state_dir() -> Path:
    state_dir = Path(tempfile.mkdtemp(prefix="nexus-chaos-"))
    # As root PostgreSQL runs as the `postgres` OS user, which must reach the directory.
    state_dir.chmod(0o755)
    return state_dir


class ChaosStack:
    """The dev stack under the supervisor `nexus up` runs (which starts a process that exited
    again), with its processes killed and restarted on demand."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stack = DevStack(settings)
        self.done: Counter[Action] = Counter()
        self._stopping = threading.Event()
        self._supervising: threading.Thread | None = None

    def start(self) -> None:
        self.stack.start()
        supervisor = Supervisor(self.stack.children, lambda line: log(f"stack: {line}"))

        def supervise() -> None:
            while not self._stopping.wait(0.2):
                supervisor.check()

        self._supervising = threading.Thread(target=supervise, name="supervisor", daemon=True)
        self._supervising.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._supervising is not None:
            self._supervising.join()
        self.stack.stop()

    def engine(self) -> Engine:
        return create_engine(self.settings.database.url.get_secret_value(), pool_pre_ping=True)

    def _crash(self, name: str, stop: signal.Signals) -> None:
        """Signal the process, and wait until the supervisor has started it again."""
        child = next(c for c in self.stack.children if c.name == name)
        restarts = child.restarts
        child.process.send_signal(stop)
        child.process.wait(timeout=60)
        self._until(lambda: child.restarts > restarts, f"{name} started again")

    def act(self, action: Action, down_s: float) -> None:
        """Do it, and return once the stack has recovered: the next action hits a running
        stack, not one still starting up."""
        if action in ("kill_cpu", "kill_gpu"):
            name = "worker-cpu" if action == "kill_cpu" else "worker-gpu"
            started = self._polling(name)
            self._crash(name, signal.SIGKILL)
            self._until(lambda: self._polling(name) > started, f"{name} polling again")
        elif action == "restart_temporal":
            self._crash("temporal", signal.SIGTERM)
            self._until(self._temporal_listens, "Temporal listening again")
        else:
            assert self.stack.postgres is not None
            self.stack.postgres.stop()
            time.sleep(down_s)
            self.stack.postgres.start()
        self.done[action] += 1

    def _polling(self, name: str) -> int:
        """How often the worker's process said it polls: once per start."""
        return (
            (self.stack.logs_dir / f"{name}.log")
            .read_text(errors="replace")
            .count("worker polling")
        )

    def _temporal_listens(self) -> bool:
        port = int(self.settings.temporal.address.rsplit(":", 1)[1])
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    @staticmethod
    def _until(check: Callable[[], bool], what: str, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not within {timeout_s:.0f}s")
            time.sleep(0.2)


async def monkey(stack: ChaosStack, plan: Plan, stop: asyncio.Event) -> None:
    """With a script, its actions in order, a random gap apart; without, random actions
    until `stop` is set."""
    rng = random.Random(plan.seed)
    remaining = list(plan.script)
    while remaining or not (plan.script or stop.is_set()):
        gap_s = rng.uniform(*plan.gap_s)
        if not plan.script:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), gap_s)
                return
        else:
            await asyncio.sleep(gap_s)
        action = remaining.pop(0) if plan.script else rng.choice(ACTIONS)
        log(f"chaos: {action}")
        await asyncio.to_thread(stack.act, action, rng.uniform(0.2, 3.0))


# -- a client that retries as clients do ---------------------------------------------------------


class JourneyFailed(Exception):
    pass


class Login(dict[str, str]):
    """A signed-in user's headers; signed in again, in place, once the token expires."""

    def __init__(self, email: str) -> None:
        super().__init__()
        self.email = email


@dataclass
class Calls:
    retried: Counter[str] = field(default_factory=Counter)  # why a request was repeated
    server_errors: list[str] = field(default_factory=list)  # 5xx other than 503


class Api:
    def __init__(self, http: httpx.AsyncClient, calls: Calls, patience_s: float) -> None:
        self.http = http
        self.calls = calls
        self.patience_s = patience_s

    async def call(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        body: Any = None,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The first answer that is not a server error; a 503, a lost answer or "the first
        request with this key is still running" is repeated with the same Idempotency-Key
        (every mutating request carries one), an expired sign-in after signing in again."""
        key = {"Idempotency-Key": str(uuid.uuid4())} if method != "GET" else {}
        deadline = time.monotonic() + self.patience_s
        while True:
            try:
                response = await self.http.request(
                    method, path, headers=headers | key, json=body, content=content,
                    params=params,
                )  # fmt: skip
            except httpx.TransportError as exc:
                why = type(exc).__name__
            else:
                status = response.status_code
                if status == 401 and isinstance(headers, Login):
                    await self.sign_in(headers)
                    why = "401 signed in again"
                elif status == 409 and response.json()["type"].endswith("/idempotency-key-in-use"):
                    why = "409 in progress"
                elif status < 500:
                    return response
                else:
                    why = str(status)
                    if status != 503:
                        self.calls.server_errors.append(
                            f"{method} {path}: {status} {response.text[:300]}"
                        )
            self.calls.retried[why] += 1
            if time.monotonic() > deadline:
                raise JourneyFailed(f"{method} {path}: still {why} after {self.patience_s}s")
            await asyncio.sleep(0.5)

    async def sign_in(self, login: Login) -> None:
        body = {"email": login.email, "password": DEMO_PASSWORD}
        token = await self.ok("POST", "/auth/login", {}, body=body)
        login["Authorization"] = f"Bearer {token['access_token']}"

    async def ok(
        self, method: str, path: str, headers: dict[str, str], *expect: int, **kw: Any
    ) -> Any:
        response = await self.call(method, path, headers, **kw)
        if response.status_code not in (expect or (200,)):
            raise JourneyFailed(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    async def until(self, what: str, check: Callable[[], Awaitable[Any]], timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            value = await check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise JourneyFailed(f"{what}: not reached in {timeout_s:.0f}s")
            await asyncio.sleep(0.3)


# -- journeys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actors:
    brand_id: str
    brand: Login
    ops: Login
    creators: list[Login]


@dataclass
class Journey:
    index: int
    kind: Kind
    campaign_id: str = ""
    delivery_id: str = ""
    license_id: str = ""
    asset_id: str = ""
    payouts: list[str] = field(default_factory=list)
    moderated: list[str] = field(default_factory=list)  # submission ids: moderation-<id>
    wall_s: float = 0.0
    error: str | None = None

    def workflow_ids(self) -> list[str]:
        """Workflows that must have completed once the journey and its campaign are done."""
        ids = [f"campaign-{self.campaign_id}", f"delivery-{self.delivery_id}"]
        ids += [f"payout-{p}" for p in self.payouts]
        return ids + [f"moderation-{s}" for s in self.moderated]

    def notification_prefixes(self) -> list[str]:
        prefixes = [f"{w}:" for w in self.workflow_ids()]
        return prefixes + ([f"license-{self.license_id}:"] if self.license_id else [])


BANK_DETAILS = {"holder_name": "Demo Creator", "iban": "DE89370400440532013000"}


async def sign_in(api: Api) -> Actors:
    async def login(email: str) -> Login:
        signed_in = Login(email)
        await api.sign_in(signed_in)
        return signed_in

    brand = await login("admin@glow.demo")
    brand_id = str((await api.ok("GET", "/brands", brand))[0]["id"])
    creators = [await login(email) for email in CREATORS]
    for creator in creators:  # manual payouts go out once the creator gives bank details
        await api.ok("PUT", "/creator/payout-account/bank-details", creator, body=BANK_DETAILS)
    return Actors(brand_id, brand, await login("ops@nexus.demo"), creators)


class Driver:
    """Drives journeys; each step is done once, confirmed by a read where an answer is lost."""

    def __init__(
        self, api: Api, actors: Actors, clips: Path, window_s: float, timeout_s: float
    ) -> None:
        self.api = api
        self.actors = actors
        self.clips = clips
        self.window_s = window_s
        self.timeout_s = timeout_s
        self.good_clip = self._clip("good", "this video is sponsored by Glow serum", 0.3)

    def _clip(self, name: str, say: str, say_at: float) -> bytes:
        return video(self.clips / f"{name}.mp4", say=say, seconds=2, say_at=say_at).read_bytes()

    async def run(self, journey: Journey) -> Journey:
        began = time.perf_counter()
        try:
            await self._journey(journey)
        except JourneyFailed as exc:
            journey.error = str(exc)
            log(f"journey {journey.index} ({journey.kind}) failed: {exc}")
        journey.wall_s = time.perf_counter() - began
        return journey

    async def _journey(self, j: Journey) -> None:
        api, brand, ops = self.api, self.actors.brand, self.actors.ops
        creator = self.actors.creators[j.index % len(self.actors.creators)]
        now = datetime.now(UTC)
        body = {
            "brand_id": self.actors.brand_id,
            "title": f"Chaos journey {j.index}",
            "budget": {"amount_minor": 200_000, "currency": "USD"},
            "brief": {
                "product": "Glow serum 30 ml",
                "objective": "Awareness among 18-34 skincare buyers",
                "mandatory_mentions": ["Glow serum"],
                "revision_rounds": 1,
                "usage_rights": RIGHTS,
                "application_deadline": (now + timedelta(seconds=self.window_s)).isoformat(),
                "delivery_deadline": (now + timedelta(days=14)).isoformat(),
            },
            "deliverables": [
                {"format": "video_9x16", "duration_s": 30, "quantity": 1, "price_minor": 100_000}
            ],
        }
        campaign = await api.ok("POST", "/campaigns", brand, 201, 200, body=body)
        cid = j.campaign_id = str(campaign["id"])
        deliverable_id = str(campaign["deliverables"][0]["id"])

        funding = await self._funding(cid, None, f"/campaigns/{cid}/fundings", {})
        await api.ok("POST", f"/ops/fundings/{funding}/confirm", ops)
        await self._step(f"/campaigns/{cid}/publish", brand, None, self._campaign_open(cid))

        apply = {"deliverable_id": deliverable_id, "pitch": "Serums are my thing"}
        applied = await api.call(
            "POST", f"/marketplace/campaigns/{cid}/applications", creator,
            body=apply | {"price_minor": PRICE},
        )  # fmt: skip
        if applied.status_code not in (201, 409):
            raise JourneyFailed(f"apply: {applied.status_code} {applied.text[:300]}")
        mine = [
            a for a in await api.ok("GET", "/creator/applications", creator)
            if a["campaign_id"] == cid
        ]  # fmt: skip
        if len(mine) != 1:
            raise JourneyFailed(f"apply: {len(mine)} applications")
        decision = f"/campaigns/{cid}/applications/{mine[0]['id']}/decision"
        await self._step(decision, brand, {"action": "accept"}, self._accepted(cid))
        j.delivery_id = await self._accepted(cid)()
        did = j.delivery_id
        await self._stage(did, "awaiting_brief_acceptance")
        await self._step(
            f"/deliveries/{did}/brief-acceptance", creator, None,
            self._stage_in(did, "awaiting_draft"),
        )  # fmt: skip

        if j.kind == "moderation":
            # A draft without any disclosure goes back to the creator; the fix is a new clip,
            # analysed from scratch (transcode, speech, nudity, brand safety on the workers).
            # Speech starting at its own millisecond makes each journey's clips unique.
            say_at = 0.2 + (j.index % 1000) / 1000
            bad = await asyncio.to_thread(
                self._clip, f"bad-{j.index}", "here is my morning routine", say_at
            )
            j.moderated.append(await self._draft(j, creator, bad, "Loving this serum", "fixing"))
            fix = await asyncio.to_thread(
                self._clip, f"fix-{j.index}", "this video is sponsored by Glow serum", say_at
            )
            j.moderated.append(await self._draft(j, creator, fix, GOOD_CAPTION, "in_review"))
        else:
            j.moderated.append(
                await self._draft(j, creator, self.good_clip, GOOD_CAPTION, "in_review")
            )
        await self._step(
            f"/deliveries/{did}/review", brand, {"decision": "approve"},
            self._stage_in(did, "awaiting_final", "completed"),
        )  # fmt: skip
        j.payouts.append(did)
        approved = await self._stage(did, "awaiting_final")
        j.license_id = await api.until("license granted", self._license_of(did), self.timeout_s)
        j.asset_id = str(approved["submissions"][-1]["id"])
        final = {"media_key": await self._upload(creator, self.good_clip)}
        await self._step(
            f"/deliveries/{did}/final", creator, final, self._stage_in(did, "completed")
        )
        await self._settle(creator, did)

        if j.kind == "license_fee":
            await self._license_fee(j, creator)

    async def _license_fee(self, j: Journey, creator: dict[str, str]) -> None:
        api, brand, lid = self.api, self.actors.brand, j.license_id

        async def licensed() -> Any:
            got = await api.call("GET", f"/licenses/{lid}", brand)
            return got.json() if got.status_code == 200 and got.json()["live"] else None

        lic = await api.until("license granted", licensed, self.timeout_s)
        ends = datetime.fromisoformat(lic["terms"]["ends_at"]) + timedelta(days=365)

        async def fee_agreed() -> bool:
            live = (await licensed() or {}).get("live") or {}
            return bool(live.get("fees"))

        async def proposed() -> bool:
            live = (await licensed() or {}).get("live") or {}
            return bool(live.get("fees") or live.get("pending_change"))

        change = {"ends_at": ends.isoformat(), "fee_minor": FEE}
        await self._step(f"/licenses/{lid}/changes", brand, change, proposed)
        answer = {"accept": True}
        await self._step(f"/licenses/{lid}/changes/answer", creator, answer, fee_agreed)
        funding = await self._funding(
            j.campaign_id, lid, f"/licenses/{lid}/fees/1/funding", {"currency": "USD"}
        )
        await api.ok("POST", f"/ops/fundings/{funding}/confirm", self.actors.ops)
        fee_payout = f"license-{lid}-1"
        j.payouts.append(fee_payout)
        await self._settle(creator, fee_payout)
        publication = {
            "channel": "paid_social", "platform": "tiktok", "territory": "US",
            "target": f"chaos-ad-{j.index}",
        }  # fmt: skip
        await api.ok("POST", f"/assets/{j.asset_id}/publications", brand, 201, body=publication)

    # -- steps -----------------------------------------------------------------------------

    async def _step(
        self,
        path: str,
        headers: dict[str, str],
        body: Any,
        done: Callable[[], Awaitable[Any]],
    ) -> None:
        """POST a step and wait for its effect. A refusal (409) may mean that the first
        attempt went through while its answer was lost, or that the process has not caught
        up with what the reads show yet: look for the effect a while, then ask again."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            response = await self.api.call("POST", path, headers, body=body)
            if response.status_code not in (200, 201, 202, 409):
                raise JourneyFailed(f"POST {path}: {response.status_code} {response.text[:300]}")
            refused = response.status_code == 409
            what = f"POST {path} ({response.status_code}: {response.text[:200]})"
            left = deadline - time.monotonic()
            try:
                await self.api.until(what, done, min(left, 10) if refused else left)
            except JourneyFailed:
                if not refused or time.monotonic() > deadline:
                    raise
            else:
                return

    async def _funding(
        self, cid: str, license_id: str | None, path: str, extra: dict[str, str]
    ) -> str:
        body = {"method": "bank_transfer"} | extra
        deadline = time.monotonic() + self.timeout_s
        while True:
            response = await self.api.call("POST", path, self.actors.brand, body=body)
            if response.status_code == 201:
                return str(response.json()["id"])
            # A repeat after a lost answer is refused: the funding the first attempt opened,
            # unless that attempt died before charging it (it is resumed after a while).
            listed = await self.api.ok("GET", f"/campaigns/{cid}/fundings", self.actors.brand)
            mine = [f for f in listed if f.get("license_id") == license_id]
            if response.status_code != 409 or len(mine) != 1:
                raise JourneyFailed(f"POST {path}: {response.status_code}, fundings {listed}")
            if mine[0]["status"] != "pending":
                return str(mine[0]["id"])
            if time.monotonic() > deadline:
                raise JourneyFailed(f"POST {path}: funding {mine[0]['id']} still pending")
            await asyncio.sleep(5)

    def _campaign_open(self, cid: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            got = await self.api.ok("GET", f"/campaigns/{cid}", self.actors.brand)
            return got["stage"] not in ("draft",)

        return check

    def _accepted(self, cid: str) -> Callable[[], Awaitable[str]]:
        async def check() -> str:
            apps = await self.api.ok("GET", f"/campaigns/{cid}/applications", self.actors.brand)
            return next((str(a["delivery_id"]) for a in apps if a.get("delivery_id")), "")

        return check

    def _license_of(self, did: str) -> Callable[[], Awaitable[str]]:
        async def check() -> str:
            got = await self.api.call(
                "GET", "/licenses", self.actors.brand, params={"delivery_id": did}
            )
            return str(got.json()[0]["id"]) if got.status_code == 200 and got.json() else ""

        return check

    async def _delivery(self, did: str) -> dict[str, Any]:
        got = await self.api.call("GET", f"/deliveries/{did}", self.actors.brand)
        return dict(got.json()) if got.status_code == 200 else {}

    def _stage_in(self, did: str, *stages: str) -> Callable[[], Awaitable[dict[str, Any]]]:
        async def check() -> dict[str, Any]:
            current = await self._delivery(did)
            return current if current.get("stage") in stages else {}

        return check

    async def _stage(self, did: str, stage: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.api.until(
            f"delivery {stage}", self._stage_in(did, stage), self.timeout_s
        )
        return found

    async def _upload(self, creator: dict[str, str], clip: bytes) -> str:
        ticket = await self.api.ok(
            "POST", "/uploads", creator, 201,
            body={"filename": "draft.mp4", "content_type": "video/mp4", "size_bytes": len(clip)},
        )  # fmt: skip
        await self.api.ok("PUT", ticket["urls"][0], creator, 201, content=clip)
        return str(ticket["key"])

    async def _draft(
        self, j: Journey, creator: dict[str, str], clip: bytes, caption: str, outcome: str
    ) -> str:
        """Submit a draft and wait for its checks' outcome; the submission's id."""
        before = len((await self._delivery(j.delivery_id)).get("submissions", []))
        body = {"media_key": await self._upload(creator, clip), "caption": caption}

        async def submitted() -> dict[str, Any]:
            current = await self._delivery(j.delivery_id)
            return current if len(current.get("submissions", [])) > before else {}

        await self._step(f"/deliveries/{j.delivery_id}/drafts", creator, body, submitted)
        checked = await self._stage(j.delivery_id, outcome)
        return str(checked["submissions"][-1]["id"])

    async def _settle(self, creator: dict[str, str], payout_id: str) -> None:
        """The payout waits for the bank batch; ops settle its line; it is paid."""
        api, ops = self.api, self.actors.ops

        def status_is(*wanted: str) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                rows = await api.ok("GET", "/creator/payouts", creator)
                return any(p["id"] == payout_id and p["status"] in wanted for p in rows)

            return check

        await api.until(
            f"payout {payout_id}", status_is("awaiting_settlement", "paid"), self.timeout_s
        )
        reference = f"payout-{payout_id}"
        lines = [
            line
            for status in ("pending", "settled")
            for line in await api.ok("GET", f"/ops/manual-transfers?status={status}", ops)
            if line["reference"] == reference
        ]
        if len(lines) != 1:
            raise JourneyFailed(f"{len(lines)} bank transfer lines for {reference}")
        await api.ok("POST", f"/ops/manual-transfers/{lines[0]['id']}/settled", ops)
        await api.until(f"payout {payout_id} paid", status_is("paid"), self.timeout_s)


async def run_journeys(
    driver: Driver, indices: range, concurrency: int
) -> tuple[list[Journey], float]:
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Journey:
        async with gate:
            return await driver.run(Journey(index, KINDS[index % len(KINDS)]))

    began = time.perf_counter()
    journeys = await asyncio.gather(*(one(i) for i in indices))
    return list(journeys), time.perf_counter() - began


async def settle_campaigns(
    api: Api, actors: Actors, journeys: list[Journey], timeout_s: float
) -> list[str]:
    """Wait for every campaign to complete (after its application deadline); those that do
    not within the bound."""
    waiting = {j.campaign_id for j in journeys if j.campaign_id and j.error is None}
    deadline = time.monotonic() + timeout_s
    while waiting and time.monotonic() < deadline:
        for cid in sorted(waiting):
            got = await api.call("GET", f"/campaigns/{cid}", actors.brand)
            if got.status_code == 200 and got.json()["stage"] == "completed":
                waiting.discard(cid)
        if waiting:
            await asyncio.sleep(1)
    return sorted(waiting)


# -- the audit ------------------------------------------------------------------------------------


@dataclass
class Audit:
    lost: dict[str, int]
    duplicates: dict[str, int]
    missing_notifications: int
    unbalanced: list[str]
    server_errors: int
    details: list[str]

    def clean(self, *, resent_emails: bool = False) -> bool:
        """Nothing lost, done twice or unbalanced; with `resent_emails`, except e-mails sent
        again under their first Message-ID (SMTP is outside the inbox's transaction)."""
        counted = [
            n for what, n in self.duplicates.items() if what != "emails" or not resent_emails
        ]
        return not (
            sum(self.lost.values())
            or sum(counted)
            or self.missing_notifications
            or self.unbalanced
            or self.server_errors
        )

    def figures(self) -> dict[str, Any]:
        return {
            "lost_workflows": sum(self.lost.values()),
            "lost": self.lost,
            "duplicate_effects": sum(self.duplicates.values()),
            "duplicates": self.duplicates,
            "missing_notifications": self.missing_notifications,
            "unbalanced_ledger": len(self.unbalanced),
            "server_errors": self.server_errors,
        }


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def excess(engine: Engine, group: str, table: str, where: str = "TRUE") -> int:
    """Rows beyond the first of each group: effects done twice."""
    return _count(
        engine,
        f"SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM {table} "  # noqa: S608
        f"WHERE {where} GROUP BY {group}) AS g",
    )


def notifications_by_journey(engine: Engine, journeys: list[Journey]) -> dict[int, Counter[str]]:
    """Each journey's inbox notifications, by kind."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT event_key, kind FROM notifications")).all()
    owner: dict[str, int] = {}
    for j in journeys:
        for prefix in j.notification_prefixes():
            owner[prefix] = j.index
    found: dict[int, Counter[str]] = {j.index: Counter() for j in journeys}
    for event_key, kind in rows:
        # Event keys are "<workflow id>:<n>:<kind>".
        prefix = str(event_key).split(":", 1)[0] + ":"
        if prefix in owner:
            found[owner[prefix]][str(kind)] += 1
    return found


def expected_notifications(engine: Engine, journeys: list[Journey]) -> dict[Kind, Counter[str]]:
    """What each kind of journey notifies when nothing fails (from the calm phase): the
    most each notification kind was seen in one journey of that kind."""
    seen = notifications_by_journey(engine, journeys)
    expected: dict[Kind, Counter[str]] = {k: Counter() for k in KINDS}
    for j in journeys:
        if j.error is None:
            expected[j.kind] |= seen[j.index]
    return expected


async def audit(
    client: Client,
    engine: Engine,
    mailbox: Mailbox,
    journeys: list[Journey],
    unsettled: list[str],
    calls: Calls,
    calm: list[Journey],
    bound_s: float,
) -> Audit:
    details: list[str] = [j.error for j in journeys if j.error]
    details += [f"campaign {c} not completed" for c in unsettled]
    details += calls.server_errors[:20]
    lost = {
        "journeys": sum(1 for j in journeys if j.error),
        "campaigns": len(unsettled),
        "running": 0,
        "failed": 0,
    }
    # A campaign's closing refund, or a step a killed worker held, may still be finishing:
    # each workflow has until the bound to complete.
    deadline = time.monotonic() + bound_s
    for j in journeys:
        for workflow_id in j.workflow_ids() if j.error is None else []:
            handle = client.get_workflow_handle(workflow_id)
            while (status := (await handle.describe()).status) == WorkflowExecutionStatus.RUNNING:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(1)
            if status != WorkflowExecutionStatus.COMPLETED:
                lost["running"] += 1
                details.append(f"{workflow_id} is {status.name if status else None}")
    ended = ("Running", "Completed", "ContinuedAsNew")
    query = " AND ".join(f"ExecutionStatus != '{status}'" for status in ended)
    async for execution in client.list_workflows(query):
        lost["failed"] += 1
        details.append(f"{execution.id} ended {execution.status}")

    # Every notification is out once the workflows are done: each journey against what its
    # kind notified in the calm phase.
    expected = expected_notifications(engine, calm)
    seen = notifications_by_journey(engine, journeys)
    extra = missing = 0
    for j in journeys:
        if j.error is None:
            want, got = expected[j.kind], seen[j.index]
            extra += sum((got - want).values())
            missing += sum((want - got).values())
            if got != want:
                details.append(f"journey {j.index} notified {dict(got)}, expected {dict(want)}")
    duplicates = {
        "payouts": excess(engine, "reason, source_id", "payouts"),
        "transfers": excess(engine, "kind, reference", "manual_transfers"),
        "ledger_entries": ledger_duplicates(engine),
        "emails": mailbox.duplicates(),
        "notifications": extra,
        "publications": excess(engine, "asset_id, target", "asset_publications"),
    }
    with session_scope(engine) as session:
        unbalanced = ledger.violations(money.all_postings(session))
    return Audit(lost, duplicates, missing, unbalanced, len(calls.server_errors), details)


def ledger_duplicates(engine: Engine) -> int:
    """A movement posted twice under different keys: a payout reserved or paid twice, a
    campaign refunded twice, a funding taken into escrow twice."""
    per_payout = _count(
        engine,
        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(DISTINCT e.id) AS n "
        "FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id "
        "WHERE p.account LIKE 'payable:%' AND e.kind IN ('reserve', 'payout') "
        "GROUP BY p.account, e.kind) AS g",
    )
    refunds = excess(engine, "campaign_id", "ledger_entries", "kind = 'refund'")
    fundings = _count(engine, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'funding'")
    confirmed = _count(engine, "SELECT COUNT(*) FROM fundings WHERE status = 'succeeded'")
    return per_payout + refunds + max(0, fundings - confirmed)


# -- one whole run -------------------------------------------------------------------------------


@dataclass
class Phase:
    journeys: list[Journey]
    elapsed_s: float

    def figures(self) -> dict[str, Any]:
        done = sorted(j.wall_s for j in self.journeys if j.error is None)
        return {
            "journeys": len(self.journeys),
            "completed": len(done),
            "journeys_per_s": round(len(done) / self.elapsed_s, 4) if self.elapsed_s else 0.0,
            "p50_s": round(done[len(done) // 2], 2) if done else None,
            "max_s": round(done[-1], 2) if done else None,
            "wall_s": round(self.elapsed_s, 1),
        }


@dataclass(frozen=True)
class Plan:
    journeys: int
    baseline: int
    concurrency: int
    seed: int = 7
    gap_s: tuple[float, float] = (5.0, 20.0)
    # From a campaign's creation to its application deadline: longer than an outage may hold
    # a journey's first steps (a campaign created late is refused: its deadline is past).
    window_s: float = 120.0
    timeout_s: float = 180.0
    # Actions to take in this order (then stop), instead of random ones while journeys run.
    script: tuple[Action, ...] = ()


@dataclass
class Result:
    calm: Phase
    chaos: Phase
    actions: Counter[Action]
    retried: Counter[str]
    audit: Audit
    emails: int

    def figures(self) -> dict[str, Any]:
        calm, chaos = self.calm.figures(), self.chaos.figures()
        ratio = chaos["journeys_per_s"] / calm["journeys_per_s"] if calm["journeys_per_s"] else 0
        return {
            "chaos": chaos | {"actions": dict(self.actions), "retried": dict(self.retried)},
            "baseline": calm,
            "ratio": round(ratio, 3),
            **self.audit.figures(),
            "emails": self.emails,
        }


async def run(stack: ChaosStack, mailbox: Mailbox, plan: Plan, clips: Path) -> Result:
    """The calm phase (no chaos: the baseline, and what each journey notifies), then the
    chaos phase, then the audit of both."""
    settings = stack.settings
    calls = Calls()
    client = await Client.connect(settings.temporal.address, namespace=settings.temporal.namespace)
    engine = stack.engine()
    try:
        async with httpx.AsyncClient(base_url=settings.api.public_url, timeout=30.0) as http:
            api = Api(http, calls, patience_s=plan.timeout_s)
            actors = await sign_in(api)
            driver = Driver(api, actors, clips, plan.window_s, plan.timeout_s)
            log(f"calm: {plan.baseline} journeys, {plan.concurrency} at a time")
            calm = Phase(*await run_journeys(driver, range(plan.baseline), plan.concurrency))
            log(f"calm: {calm.figures()}")

            stop = asyncio.Event()
            chaos_task = asyncio.create_task(monkey(stack, plan, stop))
            log(f"chaos: {plan.journeys} journeys, {plan.concurrency} at a time")
            first = plan.baseline
            try:
                chaos = Phase(
                    *await run_journeys(
                        driver, range(first, first + plan.journeys), plan.concurrency
                    )
                )
            finally:
                stop.set()
                await chaos_task
            log(f"chaos: {chaos.figures()}; actions {dict(stack.done)}")
            everything = calm.journeys + chaos.journeys
            unsettled = await settle_campaigns(api, actors, everything, plan.window_s + 120)
        result = await audit(
            client, engine, mailbox, everything, unsettled, calls, calm.journeys, plan.timeout_s
        )
        return Result(calm, chaos, stack.done, calls.retried, result, mailbox.received())
    finally:
        engine.dispose()
