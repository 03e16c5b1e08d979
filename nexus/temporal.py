"""Temporal client factory and the worker run loop shared by both pools."""

from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from nexus.settings import TemporalSettings

log = logging.getLogger(__name__)


async def connect(settings: TemporalSettings, *, tracing: bool = False) -> Client:
    """A client (and the workers built on it) that carries the caller's trace into workflows
    and activities when `tracing`."""
    return await Client.connect(
        settings.address,
        namespace=settings.namespace,
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
