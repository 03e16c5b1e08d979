"""Task-queue names. A deployment (or a test) picks a base name; the pools derive from it."""

from __future__ import annotations

CPU_SUFFIX = ".cpu"
GPU_SUFFIX = ".gpu"


def cpu_queue(base: str) -> str:
    """Workflows and CPU activities (DB, ffmpeg, rules, integrations)."""
    return base + CPU_SUFFIX


def gpu_queue(base: str) -> str:
    """GPU activities (models)."""
    return base + GPU_SUFFIX


def gpu_queue_for(workflow_task_queue: str) -> str:
    """The GPU pool paired with the CPU queue a workflow runs on; deterministic in workflows."""
    return gpu_queue(workflow_task_queue.removesuffix(CPU_SUFFIX))
