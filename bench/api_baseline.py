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
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadgen import (
    PhaseResult,
    check_reads,
    create_campaigns,
    open_clients,
    parse_load_args,
    percentile,
    run_phase,
    summarize,
)
from nexus.devstack import DevStack, StackError, isolated_environment
from nexus.settings import Settings

NOTE = (
    "load generator shares the machine (os.cpu_count()={cpus}) with the API, PostgreSQL, "
    "Temporal and both workers; absolute figures are pessimistic, compare the ratio"
)


def log(message: str) -> None:
    print(f"[api_baseline] {message}", file=sys.stderr, flush=True)


async def measure(
    target: str,
    base_url: str,
    headers: dict[str, str],
    paths: list[str],
    args: argparse.Namespace,
    check_live: bool = False,
) -> tuple[dict[str, Any], PhaseResult]:
    clients = open_clients(base_url, headers, args.clients)
    try:
        log(f"{target}: warm-up {args.warmup}s with {args.clients} clients")
        await run_phase(clients, paths, args.warmup, check_live)
        log(f"{target}: measuring {args.seconds}s")
        result = await run_phase(clients, paths, args.seconds, check_live)
    finally:
        await asyncio.gather(*(http.close() for http in clients))
    summary = summarize(result)
    log(f"{target}: {json.dumps(summary)}")
    return summary, result


async def bench(base_url: str, args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    headers, paths, create_s = await create_campaigns(base_url, args.campaigns, "Bench campaign")
    await check_reads([base_url], headers, paths[0])
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


def main(argv: list[str] | None = None) -> int:
    args = parse_load_args(__doc__, argv)
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
