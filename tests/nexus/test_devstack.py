"""`nexus up` says each start-up step as it goes and how long it took, in order, before the
banner: a first start shows what it is waiting for instead of minutes of silence."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from nexus import devstack
from nexus.devstack import DevStack
from nexus.settings import Settings

STEPS = [
    "starting PostgreSQL",
    "starting Temporal",
    "migrating the database",
    "seeding the demo workspace",
    "starting the CPU and GPU workers and the API",
    "starting the gateway",
]


def test_start_up_prints_each_step_with_its_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The servers themselves are the stack test's (tests/test_stack.py); here each step is
    # instant and only what the launcher says is looked at.
    monkeypatch.setattr(DevStack, "_preflight", lambda self: None)
    monkeypatch.setattr(DevStack, "_start_postgres", lambda self, postgres: None)
    monkeypatch.setattr(DevStack, "_start_temporal", lambda self: None)
    monkeypatch.setattr(DevStack, "_spawn", lambda self, name, argv: None)
    monkeypatch.setattr(DevStack, "_wait_for_platform", lambda self: None)
    monkeypatch.setattr(DevStack, "_start_gateway", lambda self: None)
    monkeypatch.setattr(devstack, "upgrade_to_head", lambda url: None)
    monkeypatch.setattr(devstack, "create_engine", lambda url: create_engine("sqlite://"))
    monkeypatch.setattr(devstack, "seed_demo", lambda session, hasher: [])
    monkeypatch.setattr(devstack, "installation_secrets", lambda state_dir, environ: {})

    DevStack(Settings(env="test", stack={"state_dir": tmp_path})).start()

    lines = capsys.readouterr().out.splitlines()
    expected = [
        line
        for step in STEPS
        for line in (rf"nexus up: {step} \.\.\.", rf"nexus up: {step}: done in \d+\.\d s")
    ]
    assert len(lines) == len(expected), lines
    for line, pattern in zip(lines, expected, strict=True):
        assert re.fullmatch(pattern, line), line


def test_the_secrets_go_to_the_children_not_into_the_launchers_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A stack started inside another program (the chaos suite, a test) leaves that program's
    settings as they were: the generated secrets reach only the processes it starts."""
    spawned: dict[str, dict[str, str] | None] = {}
    monkeypatch.setattr(DevStack, "_preflight", lambda self: None)
    monkeypatch.setattr(DevStack, "_start_postgres", lambda self, postgres: None)
    monkeypatch.setattr(DevStack, "_start_temporal", lambda self: None)
    monkeypatch.setattr(
        DevStack, "_spawn", lambda self, name, argv: spawned.__setitem__(name, self.child_env)
    )
    monkeypatch.setattr(DevStack, "_wait_for_platform", lambda self: None)
    monkeypatch.setattr(DevStack, "_start_gateway", lambda self: None)
    monkeypatch.setattr(devstack, "upgrade_to_head", lambda url: None)
    monkeypatch.setattr(devstack, "create_engine", lambda url: create_engine("sqlite://"))
    monkeypatch.setattr(devstack, "seed_demo", lambda session, hasher: [])
    monkeypatch.delenv("NEXUS_AUTH__JWT_SECRET", raising=False)

    DevStack(Settings(env="test", stack={"state_dir": tmp_path})).start()

    assert "NEXUS_AUTH__JWT_SECRET" not in os.environ
    assert set(spawned) == {"worker-cpu", "worker-gpu", "api"}
    for env in spawned.values():
        assert env is not None and len(env["NEXUS_AUTH__JWT_SECRET"]) >= 32
