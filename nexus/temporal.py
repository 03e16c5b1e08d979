"""Temporal client factory and the worker run loop shared by both pools."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import TLSConfig
from temporalio.worker import Worker

from nexus.settings import TemporalSettings

log = logging.getLogger(__name__)


def tls_config(settings: TemporalSettings) -> TLSConfig | bool:
    """The TLS the client speaks: False for plaintext; the client certificate and key (mTLS),
    the CA to trust and the server name to expect, read from their files now, so that a
    missing file stops the process at start."""
    if not settings.uses_tls:
        return False
    if (settings.tls_cert_path, settings.tls_ca_path, settings.tls_server_name) == (None,) * 3:
        return True  # the system roots, the address's own name
    return TLSConfig(
        server_root_ca_cert=_read(settings.tls_ca_path),
        client_cert=_read(settings.tls_cert_path),
        client_private_key=_read(settings.tls_key_path),
        domain=settings.tls_server_name,
    )


def _read(path: Path | None) -> bytes | None:
    return None if path is None else path.read_bytes()


async def connect(settings: TemporalSettings, *, tracing: bool = False) -> Client:
    """A client (and the workers built on it), authenticated as the settings say (mTLS or
    API key), that carries the caller's trace into workflows and activities when `tracing`."""
    api_key = settings.api_key.get_secret_value() if settings.api_key is not None else None
    return await Client.connect(
        settings.address,
        namespace=settings.namespace,
        api_key=api_key,
        tls=tls_config(settings),
        data_converter=pydantic_data_converter,
        interceptors=[TracingInterceptor()] if tracing else [],
    )


async def run_until_signalled(worker: Worker) -> None:
    """Run a worker until SIGTERM or SIGINT, then drain: stop polling, let running
    activities finish within the worker's graceful shutdown timeout."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info("worker polling %s", worker.task_queue)
        await stop.wait()
        log.info("draining worker on %s", worker.task_queue)
