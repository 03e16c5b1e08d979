"""API latency and throughput baseline: GET /campaigns/{id} against GET /healthz.

Run by hand from the repository root (never in CI):

    .venv/bin/python bench/api_baseline.py  # --clients 20 --seconds 10 --warmup 2 --campaigns 20

It starts the whole embedded dev stack (PostgreSQL, the Temporal dev server, the CPU and GPU
workers and the API) on free 127.0.0.1 ports with a fresh state directory, signs in as the demo
brand admin, creates the campaigns, then loads each target with N concurrent keep-alive clients:
first /healthz (the baseline: the API process and the HTTP path alone), then GET /campaigns/{id}
(the token check and the version of the campaign's rows, two plain queries; the answer kept for
that version, or rendered from the rows, which hold the live state its workflow writes; no
workflow query). It prints exactly one JSON line on stdout with
p50/p99 latency (ms), throughput (req/s) and errors per target, and the ratio of the campaign read
to the baseline; progress goes to stderr. The stack is always stopped, even on failure or Ctrl-C.

Caveat: the load generator runs in this process on the same machine as the stack. On a small
host (2 cores here) it competes with the API, PostgreSQL, Temporal and the workers for CPU, so
absolute figures understate the platform and the /healthz baseline may be bounded by the client;
compare the ratio, and only between runs on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from models.seed import DEMO_PASSWORD
from nexus.devstack import DevStack, StackError, isolated_environment
from nexus.settings import Settings

ADMIN_EMAIL = "admin@glow.demo"
HOST = "127.0.0.1"
NOTE = (
    "load generator shares the machine (os.cpu_count()={cpus}) with the API, PostgreSQL, "
    "Temporal and both workers; absolute figures are pessimistic, compare the ratio"
)


def log(message: str) -> None:
    print(f"[api_baseline] {message}", file=sys.stderr, flush=True)


# -- load generation ----------------------------------------------------------------------


@dataclass
class PhaseResult:
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    # 200 answers to GET /campaigns/{id} whose live state is null: the campaign's row holds
    # none (a run older than the read model) and its workflow could not answer.
    live_missing: int = 0
    elapsed_s: float = 0.0

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def client_loop(
    http: httpx.AsyncClient,
    paths: list[str],
    start_index: int,
    deadline: float,
    result: PhaseResult,
    check_live: bool,
) -> None:
    index = start_index
    while time.perf_counter() < deadline:
        path = paths[index % len(paths)]
        index += 1
        began = time.perf_counter()
        try:
            response = await http.get(path)
        except httpx.HTTPError as exc:
            result.error(type(exc).__name__)
            continue
        result.latencies_s.append(time.perf_counter() - began)
        if not 200 <= response.status_code < 300:
            result.error(f"HTTP {response.status_code}")
        elif check_live and b'"live":null' in response.content:
            result.live_missing += 1


async def run_phase(
    clients: list[httpx.AsyncClient], paths: list[str], seconds: float, check_live: bool
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


def summarize(result: PhaseResult) -> dict[str, Any]:
    values = sorted(result.latencies_s)
    ok = len(values) - sum(n for k, n in result.error_kinds.items() if k.startswith("HTTP "))
    summary: dict[str, Any] = {
        "requests": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 3) if values else None,
        "p99_ms": round(percentile(values, 99) * 1000, 3) if values else None,
        "rps": round(ok / result.elapsed_s, 1) if result.elapsed_s > 0 else 0.0,
        "errors": result.errors,
    }
    if result.error_kinds:
        summary["error_kinds"] = result.error_kinds
    return summary


async def measure(
    target: str,
    base_url: str,
    headers: dict[str, str],
    paths: list[str],
    args: argparse.Namespace,
    check_live: bool = False,
) -> tuple[dict[str, Any], PhaseResult]:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10.0, limits=limits)
        for _ in range(args.clients)
    ]
    try:
        log(f"{target}: warm-up {args.warmup}s with {args.clients} clients")
        await run_phase(clients, paths, args.warmup, check_live)
        log(f"{target}: measuring {args.seconds}s")
        result = await run_phase(clients, paths, args.seconds, check_live)
    finally:
        await asyncio.gather(*(http.aclose() for http in clients))
    summary = summarize(result)
    log(f"{target}: {json.dumps(summary)}")
    return summary, result


# -- set-up through the API ---------------------------------------------------------------


def campaign_body(brand_id: str, n: int) -> dict[str, Any]:
    return {
        "brand_id": brand_id,
        "title": f"Bench campaign {n}",
        "budget": {"amount_minor": 500_000, "currency": "USD"},
        "brief": {
            "product": "Glow serum 30 ml",
            "objective": "Awareness among 18-34 skincare buyers",
            "mandatory_mentions": ["Glow serum"],
            "revision_rounds": 2,
        },
        "deliverables": [
            {"format": "video_9x16", "duration_s": 30, "quantity": 2, "price_minor": 100_000}
        ],
    }


async def prepare(base_url: str, count: int) -> tuple[dict[str, str], list[str], list[float]]:
    """Sign in, find the demo brand and create `count` campaigns; return auth headers, the
    campaign paths and the creation latencies."""
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
                "/campaigns", json=campaign_body(brand_id, n), headers=headers
            )
            create_s.append(time.perf_counter() - began)
            if response.status_code != 201:
                raise RuntimeError(
                    f"POST /campaigns answered {response.status_code}: {response.text[:300]}"
                )
            paths.append(f"/campaigns/{response.json()['id']}")
        # One read first, so a broken endpoint fails loudly instead of as a wall of errors.
        response = await http.get(paths[0], headers=headers)
        if response.status_code != 200:
            raise RuntimeError(
                f"GET {paths[0]} answered {response.status_code}: {response.text[:300]}"
            )
    return headers, paths, create_s


async def bench(base_url: str, args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    headers, paths, create_s = await prepare(base_url, args.campaigns)
    ordered = sorted(create_s)
    log(
        f"created {len(paths)} campaigns in {time.perf_counter() - began:.1f}s "
        f"(POST /campaigns p50 {percentile(ordered, 50) * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms)"
    )
    healthz, _ = await measure("healthz", base_url, {}, ["/healthz"], args)
    get_campaign, result = await measure(
        "get_campaign", base_url, headers, paths, args, check_live=True
    )
    get_campaign["live_missing"] = result.live_missing

    def ratio(key: str) -> float | None:
        a, b = get_campaign[key], healthz[key]
        return round(a / b, 3) if a is not None and b else None

    return {
        "bench": "api_baseline",
        "clients": args.clients,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "campaigns": len(paths),
        "setup": {"create_campaign_p50_ms": round(percentile(ordered, 50) * 1000, 1)},
        "healthz": healthz,
        "get_campaign": get_campaign,
        "ratio": {"rps": ratio("rps"), "p50": ratio("p50_ms"), "p99": ratio("p99_ms")},
        "note": NOTE.format(cpus=os.cpu_count()),
    }


# -- entry point --------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (20)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per phase (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (2)")
    parser.add_argument("--campaigns", type=int, default=20, help="campaigns to read (20)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.campaigns < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--clients and --campaigns must be >= 1, --seconds > 0, --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state_dir = Path(tempfile.mkdtemp(prefix="nexus-bench-"))
    # As root PostgreSQL runs as the `postgres` OS user, which must reach the directory.
    state_dir.chmod(0o755)
    os.environ.update(isolated_environment(state_dir))
    # The API itself, as deployed behind the edge: rate limiting counts every read (the limit
    # raised so that nothing is refused); the gateway's own cost is bench/edge.py's to measure.
    os.environ["NEXUS_GATEWAY__ENABLED"] = "false"
    os.environ["NEXUS_RATE_LIMITS__READS"] = "100000000/minute"
    os.environ["NEXUS_RATE_LIMITS__WRITES"] = "100000000/minute"
    settings = Settings()
    stack = DevStack(settings)
    ok = False
    try:
        log(f"starting the stack (state in {state_dir})")
        began = time.perf_counter()
        stack.start()
        stack_start_s = time.perf_counter() - began
        log(f"stack up in {stack_start_s:.1f}s at {settings.api.public_url}")
        report = asyncio.run(bench(settings.api.public_url, args))
        report["setup"]["stack_start_s"] = round(stack_start_s, 1)
        print(json.dumps(report, separators=(",", ":")), flush=True)
        ok = True
    except StackError as exc:
        log(f"the stack did not start: {exc}")
    except (httpx.HTTPError, RuntimeError) as exc:
        log(f"failed: {type(exc).__name__}: {exc}")
    finally:
        log("stopping the stack")
        stack.stop()
        if ok:
            shutil.rmtree(state_dir, ignore_errors=True)
        else:
            log(f"state and logs kept in {state_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal SDK runtime may abort during interpreter teardown in a client-only process
    # (sdk-python#300, see nexus/cli.py); everything is reported and stopped, so leave now.
    os._exit(code)
