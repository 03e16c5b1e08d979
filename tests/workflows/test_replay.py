"""Recorded histories must replay against today's workflow code: a non-deterministic change
to a workflow that may be in flight fails here (use `workflow.patched` instead)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workers.cpu.main import WORKFLOWS

HISTORIES = {
    path.stem: path.read_text()
    for path in sorted((Path(__file__).parent.parent / "histories").glob("*.json"))
}


@pytest.mark.parametrize("name", HISTORIES)
async def test_recorded_history_replays(name: str) -> None:
    history = WorkflowHistory.from_json(name, HISTORIES[name])
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)


def test_there_are_histories_to_replay() -> None:
    assert HISTORIES
