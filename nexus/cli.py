"""`nexus` command line: the dev stack, the API, the workers, migrations, health checks."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from nexus import compliance_cli, ledger_cli
from nexus.health import COMPONENTS
from nexus.settings import MissingSecret, Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nexus", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the embedded dev stack until Ctrl-C")
    up.add_argument("--check", action="store_true", help="report the running stack's health")
    check = sub.add_parser("check", help="report each component's health (exit 1 if any fails)")
    check.add_argument("components", nargs="*", choices=[*COMPONENTS, []], metavar="COMPONENT")
    sub.add_parser("api", help="serve the HTTP API")
    worker = sub.add_parser("worker", help="run a worker pool")
    worker.add_argument("pool", choices=["cpu", "gpu"])
    sub.add_parser("migrate", help="apply database migrations and create the media bucket")
    sub.add_parser("seed", help="create the demo workspace if missing")
    ledger_cli.add_parser(sub)
    compliance_cli.add_parser(sub)
    pdq = sub.add_parser(
        "pdq", help="print the PDQ hash of each image, as a line for a child-safety hash list"
    )
    pdq.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    return parser


def _exit_now(code: int) -> NoReturn:
    """Leave without interpreter teardown: the Temporal SDK runtime may abort while Python
    finalizes it (sdk-python#300), after all work is done."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def _check(settings: Settings, names: Sequence[str]) -> int:
    from nexus.devstack import report

    _exit_now(report(settings, tuple(names) or COMPONENTS))


def _serve_api(settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    app = create_app(settings)
    # Everything loaded so far lives as long as the process: out of the collector's sight, a
    # full collection no longer walks it, which kept a long tail on request latency.
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.api.host,
        port=settings.api.port,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=settings.api.forwarded_allow_ips,
        timeout_graceful_shutdown=20,
    )
    return 0


def _worker(settings: Settings, pool: str) -> int:
    import uvloop

    if pool == "cpu":
        from workers.cpu.main import main as run_worker
    else:
        from workers.gpu.main import main as run_worker
    # uvloop: the worker's event loop turns once per task, activity result and heartbeat.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run_worker(settings))
    _exit_now(0)  # the worker has drained


def _seed(settings: Settings) -> int:
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from api.security import hash_password
    from models.seed import seed_demo

    engine = create_engine(settings.database.url.get_secret_value())
    with Session(engine) as session:
        for login in seed_demo(session, hash_password):
            print(f"{login.email} {login.role.value}")
        session.commit()
    engine.dispose()
    return 0


def _pdq(settings: Settings, images: Sequence[Path]) -> int:
    """Hashes as frames of an upload would get them (same downscale), so list entries match
    at the usual distance."""
    import tempfile

    from activities.media.hashes import HashListError, hash_image
    from activities.media.tools import Limits

    limits = Limits(settings.media.probe_timeout_s, settings.media.tool_memory_bytes)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="nexus-pdq-") as scratch:
        for image in images:
            try:
                found = hash_image(image, Path(scratch), limits)
            except HashListError as exc:
                print(f"nexus: {exc}", file=sys.stderr)
                failed = 1
                continue
            print(f"{found.hex}  # {image.name} quality={found.quality}")
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "compliance":
        # Pure rules: no settings, services or secrets needed.
        return compliance_cli.run(args)
    # Services log their work; interactive commands print only what the user asked for.
    quiet = args.command in ("up", "check", "migrate", "seed", "ledger", "pdq")
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        print(
            f"nexus: invalid settings: {first['msg']} ({'.'.join(map(str, first['loc']))})",
            file=sys.stderr,
        )
        return 2
    if args.command == "ledger" and settings.env == "development":
        # On a development machine it runs beside `nexus up`, with the secrets that made.
        from nexus.devstack import kept_secrets

        found = kept_secrets(settings.stack.state_dir, dict(os.environ))
        if found:
            os.environ.update(found)
            settings = Settings()
    if args.command == "up":
        if args.check:
            return _check(settings, ())
        from nexus.devstack import up

        return up(settings)
    if args.command == "check":
        return _check(settings, args.components)
    if args.command in ("api", "worker"):
        try:
            settings.require_secrets("api" if args.command == "api" else f"worker-{args.pool}")
        except MissingSecret as exc:
            print(f"nexus: {exc}", file=sys.stderr)
            return 2
    if args.command == "api":
        return _serve_api(settings)
    if args.command == "worker":
        return _worker(settings, args.pool)
    if args.command == "ledger":
        try:
            return ledger_cli.run(settings, args)
        except MissingSecret as exc:
            print(f"nexus: {exc}", file=sys.stderr)
            return 2
    if args.command == "pdq":
        return _pdq(settings, args.images)
    if args.command == "migrate":
        from models.migrate import upgrade_to_head

        upgrade_to_head(settings.database.url.get_secret_value())
        if settings.storage.backend == "s3":
            from integrations.storage.minio import S3Store

            S3Store.from_settings(settings.storage).ensure_bucket()
        return 0
    return _seed(settings)
