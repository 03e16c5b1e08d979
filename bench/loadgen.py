"""The HTTP load generator the read benches share (api_baseline, edge): N keep-alive clients
that each send the next GET as soon as the last one is answered, until a deadline (closed loop),
or a GET every 1/rate s on the next idle client (open loop); nearest-rank percentiles; and the
demo brand's sign-in and campaigns to read.

The load is sent with aiohttp, set-up with httpx. The generator shares the machine with what it
measures, so its own cost counts: httpx spends about 1.1 ms of CPU per GET here, aiohttp about
0.13 ms, which leaves the servers the CPU a separate load generator would."""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx

from models.seed import DEMO_PASSWORD

ADMIN_EMAIL = "admin@glow.demo"


@dataclass
class PhaseResult:
    latencies_s: list[float] = field(default_factory=list)
    error_kinds: dict[str, int] = field(default_factory=dict)
    # 200 answers to GET /campaigns/{id} whose live state is null (counted where asked for):
    # the campaign's row holds none and its workflow could not answer.
    live_missing: int = 0
    elapsed_s: float = 0.0

    def error(self, kind: str) -> None:
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    def add(self, other: PhaseResult) -> None:
        self.latencies_s += other.latencies_s
        self.elapsed_s += other.elapsed_s
        self.live_missing += other.live_missing
        for kind, count in other.error_kinds.items():
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + count


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def timed_get(
    http: aiohttp.ClientSession, path: str, since: float, result: PhaseResult, check_live: bool
) -> None:
    """One GET, its latency from `since` and what became of it, into `result`."""
    try:
        async with http.get(path) as response:
            body = await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        result.error(type(exc).__name__)
        return
    result.latencies_s.append(time.perf_counter() - since)
    if not 200 <= response.status < 300:
        result.error(f"HTTP {response.status}")
    elif check_live and b'"live":null' in body:
        result.live_missing += 1


async def client_loop(
    http: aiohttp.ClientSession,
    paths: list[str],
    start: int,
    deadline: float,
    result: PhaseResult,
    check_live: bool,
) -> None:
    index = start
    while time.perf_counter() < deadline:
        await timed_get(http, paths[index % len(paths)], time.perf_counter(), result, check_live)
        index += 1


async def run_phase(
    clients: list[aiohttp.ClientSession], paths: list[str], seconds: float, check_live: bool = False
) -> PhaseResult:
    result = PhaseResult()
    began = time.perf_counter()
    deadline = began + seconds
    await asyncio.gather(
        *(
            client_loop(http, paths, i * 7, deadline, result, check_live)
            for i, http in enumerate(clients)
        )
    )
    result.elapsed_s = time.perf_counter() - began
    return result


async def run_rate_phase(
    clients: list[aiohttp.ClientSession], paths: list[str], seconds: float, rate: float
) -> PhaseResult:
    """Open loop: a request every 1/`rate` s whether or not earlier ones were answered, each
    on the next idle client. A request's latency runs from the moment it was due, so time spent
    waiting for a client counts (no coordinated omission)."""
    result = PhaseResult()
    idle: asyncio.Queue[aiohttp.ClientSession] = asyncio.Queue()
    for http in clients:
        idle.put_nowait(http)

    async def one(path: str, due: float) -> None:
        http = await idle.get()
        try:
            await timed_get(http, path, due, result, check_live=False)
        finally:
            idle.put_nowait(http)

    began = time.perf_counter()
    tasks: list[asyncio.Task[None]] = []
    for n in range(int(seconds * rate)):
        due = began + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(paths[n % len(paths)], due)))
    await asyncio.gather(*tasks)
    result.elapsed_s = time.perf_counter() - began
    return result


def open_clients(base_url: str, headers: dict[str, str], count: int) -> list[aiohttp.ClientSession]:
    """`count` clients of one keep-alive connection each: one request in flight per client.
    Call from a running event loop; close each with `await client.close()`."""
    return [
        aiohttp.ClientSession(
            base_url=base_url,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=10.0),
            connector=aiohttp.TCPConnector(limit=1),
        )
        for _ in range(count)
    ]


def summarize(result: PhaseResult) -> dict[str, Any]:
    values = sorted(result.latencies_s)
    http_errors = sum(n for k, n in result.error_kinds.items() if k.startswith("HTTP "))
    summary: dict[str, Any] = {
        "requests": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 3) if values else None,
        "p99_ms": round(percentile(values, 99) * 1000, 3) if values else None,
        "rps": (
            round((len(values) - http_errors) / result.elapsed_s, 1)
            if values and result.elapsed_s > 0
            else 0.0
        ),
        "errors": sum(result.error_kinds.values()),
    }
    if result.error_kinds:
        summary["error_kinds"] = result.error_kinds
    return summary


def campaign_body(brand_id: str, title: str) -> dict[str, Any]:
    return {
        "brand_id": brand_id,
        "title": title,
        "budget": {"amount_minor": 500_000, "currency": "USD"},
        "brief": {
            "product": "Glow serum 30 ml",
            "objective": "Awareness among 18-34 skincare buyers; show it's fragrance-free",
            "mandatory_mentions": ["Glow serum"],
            "revision_rounds": 2,
        },
        "deliverables": [
            {"format": "video_9x16", "duration_s": 30, "quantity": 2, "price_minor": 100_000}
        ],
    }


async def create_campaigns(
    base_url: str, count: int, title: str
) -> tuple[dict[str, str], list[str], list[float]]:
    """Sign in as the demo brand admin and create `count` campaigns of its first brand; the
    auth headers, the campaigns' paths and each creation's latency (s)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        response = await http.post(
            "/auth/login", json={"email": ADMIN_EMAIL, "password": DEMO_PASSWORD}
        )
        response.raise_for_status()
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        response = await http.get("/brands", headers=headers)
        response.raise_for_status()
        brand_id = str(response.json()[0]["id"])
        paths: list[str] = []
        create_s: list[float] = []
        for n in range(count):
            began = time.perf_counter()
            response = await http.post(
                "/campaigns", json=campaign_body(brand_id, f"{title} {n}"), headers=headers
            )
            create_s.append(time.perf_counter() - began)
            if response.status_code != 201:
                raise RuntimeError(
                    f"POST /campaigns answered {response.status_code}: {response.text[:300]}"
                )
            paths.append(f"/campaigns/{response.json()['id']}")
    return headers, paths, create_s


async def check_reads(base_urls: list[str], headers: dict[str, str], path: str) -> None:
    """One read on each target first, so a broken one fails loudly, not as a wall of errors."""
    async with httpx.AsyncClient(timeout=30.0, headers=headers) as http:
        for base in base_urls:
            response = await http.get(f"{base}{path}")
            if response.status_code != 200:
                raise RuntimeError(
                    f"GET {base}{path} answered {response.status_code}: {response.text[:300]}"
                )


def parse_load_args(
    doc: str | None, argv: list[str] | None, rounds: bool = False
) -> argparse.Namespace:
    """The load's shape from the command line: clients, seconds, warm-up, campaigns and, for a
    bench whose phases take turns, rounds."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (20)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per phase (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (2)")
    parser.add_argument("--campaigns", type=int, default=20, help="campaigns to read (20)")
    parser.add_argument(
        "--rate",
        type=float,
        help="open loop at this many requests/s instead of closed-loop clients at full speed",
    )
    if rounds:
        parser.add_argument(
            "--rounds", type=int, default=5, help="phases alternate this many times (5)"
        )
    args = parser.parse_args(argv)
    if (
        args.clients < 1
        or args.campaigns < 1
        or getattr(args, "rounds", 1) < 1
        or args.seconds <= 0
        or args.warmup < 0
        or (args.rate is not None and args.rate <= 0)
    ):
        counts = "--clients, --campaigns and --rounds" if rounds else "--clients and --campaigns"
        parser.error(f"{counts} must be >= 1, --seconds and --rate > 0, --warmup >= 0")
    return args
