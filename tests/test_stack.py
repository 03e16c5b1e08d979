"""The embedded stack driven through its CLI, as a user runs it: up, use, Ctrl-C, up again."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from models.seed import DEMO_PASSWORD
from nexus.devstack import isolated_environment
from tests.support import campaign_body

BIN = Path(sys.prefix) / "bin"
READY_LINE = "Press Ctrl-C to stop."


@pytest.fixture
def stack_env() -> Iterator[dict[str, str]]:
    state = Path(tempfile.mkdtemp(prefix="nexus-stack-"))
    state.chmod(0o755)  # as root, PostgreSQL runs as `postgres` and must reach it
    env = {**os.environ, **isolated_environment(state / "state")}
    yield env
    shutil.rmtree(state, ignore_errors=True)


class Stack:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nexus", "up"],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text()

    def wait_ready(self, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while READY_LINE not in self.output():
            assert self.process.poll() is None, f"nexus up exited early:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"nexus up not ready:\n{self.output()[-3000:]}"
            time.sleep(0.5)

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=120)


def temporal_list(env: dict[str, str], query: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [
            *(str(BIN / "temporal"), "workflow", "list"),
            *("--address", env["NEXUS_TEMPORAL__ADDRESS"], "--query", query, "--output", "json"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    # The CLI prints one JSON object per line (or a JSON array, depending on version).
    text = result.stdout.strip()
    if not text:
        return []
    if text.startswith("["):
        parsed: list[dict[str, object]] = json.loads(text)
        return parsed
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def wait_for_listing(env: dict[str, str], query: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + 15
    while not (found := temporal_list(env, query)) and time.monotonic() < deadline:
        time.sleep(0.5)  # visibility is eventually consistent
    return found


def login(api: httpx.Client) -> None:
    token = api.post(
        "/auth/login", json={"email": "admin@glow.demo", "password": DEMO_PASSWORD}
    ).json()["access_token"]
    api.headers["Authorization"] = f"Bearer {token}"


@pytest.mark.stack
def test_stack_runs_a_campaign_and_resumes_after_restart(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    stack = Stack(stack_env, tmp_path / "first.log")
    try:
        stack.wait_ready()
        banner = stack.output()
        # The platform is opened through the gateway (nginx, ModSecurity, OWASP CRS).
        gateway = f"http://127.0.0.1:{stack_env['NEXUS_GATEWAY__PORT']}"
        assert f"Portal      {gateway}/portal" in banner
        assert f"API docs    {gateway}/docs" in banner
        assert f"API direct  {stack_env['NEXUS_API__PUBLIC_URL']}" in banner
        assert f"http://127.0.0.1:{stack_env['NEXUS_STACK__TEMPORAL_UI_PORT']}" in banner
        assert "admin@glow.demo" in banner
        # E-mail in development goes to the mail catcher the stack started.
        mail_port = stack_env["NEXUS_NOTIFICATIONS__MAIL_CATCHER_PORT"]
        assert f"Mail        smtp://127.0.0.1:{mail_port}" in banner
        with smtplib.SMTP("127.0.0.1", int(mail_port), timeout=10) as smtp:
            assert smtp.noop()[0] == 250

        with httpx.Client(base_url=gateway, timeout=30) as api:
            login(api)
            brand_id = api.get("/brands").json()[0]["id"]
            created = api.post("/campaigns", json=campaign_body(brand_id))
            assert created.status_code == 201, created.text
            campaign = created.json()
            # Its firewall refuses an attack before the API sees it.
            attack = api.get("/campaigns", params={"q": "<script>alert(1)</script>"})
            assert attack.status_code == 403

        query = f'CampaignId="{campaign["id"]}"'
        listed = wait_for_listing(stack_env, query)
        assert [w["execution"]["workflowId"] for w in listed] == [f"campaign-{campaign['id']}"]  # type: ignore[index]

        check = subprocess.run(
            [sys.executable, "-m", "nexus", "up", "--check"],
            env=stack_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        for component in ("postgres", "temporal", "api", "workers"):
            assert f"ok   {component}" in check.stdout
    finally:
        code = stack.interrupt()
    assert code == 0, stack.output()[-3000:]
    assert "Stopped." in stack.output()

    # Everything is down: the check now fails.
    down = subprocess.run(
        [sys.executable, "-m", "nexus", "check", "api", "postgres"],
        env=stack_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 1
    assert "FAIL api" in down.stdout
    assert "FAIL postgres" in down.stdout

    again = Stack(stack_env, tmp_path / "second.log")
    try:
        again.wait_ready()
        with httpx.Client(base_url=stack_env["NEXUS_API__PUBLIC_URL"], timeout=30) as api:
            login(api)
            fetched = api.get(f"/campaigns/{campaign['id']}")
            assert fetched.status_code == 200
            body = fetched.json()
            assert body["title"] == campaign["title"]
            assert body["live"] == campaign["live"]
        listed = wait_for_listing(stack_env, query + ' AND ExecutionStatus="Running"')
        assert len(listed) == 1
    finally:
        assert again.interrupt() == 0


def run_up(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nexus", "up"], env=env, capture_output=True, text=True, timeout=60
    )


def test_up_explains_a_port_in_use_in_one_line(stack_env: dict[str, str]) -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(stack_env["NEXUS_API__PORT"])))
        holder.listen()
        result = run_up(stack_env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"nexus up: port {stack_env['NEXUS_API__PORT']} for API (NEXUS_API__PORT) is already "
        "in use; stop what holds it or set another"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_up_explains_missing_postgres_binaries(stack_env: dict[str, str], tmp_path: Path) -> None:
    result = run_up({**stack_env, "NEXUS_STACK__POSTGRES_BIN_DIR": str(tmp_path / "nowhere")})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "apt-get install -y postgresql" in lines[0]


def test_invalid_settings_are_refused_in_one_line(stack_env: dict[str, str]) -> None:
    result = run_up({**stack_env, "NEXUS_API__PORT": "not-a-port"})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("nexus: invalid settings:")
    assert "api.port" in result.stderr


@pytest.mark.stack
def test_a_killed_worker_is_started_again_while_the_stack_keeps_running(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    stack_log = Path(stack_env["NEXUS_STACK__STATE_DIR"]) / "logs" / "stack.log"
    stack = Stack(stack_env, tmp_path / "up.log")
    try:
        stack.wait_ready()
        started = re.search(r"worker-cpu started \(pid (\d+)\)", stack_log.read_text())
        assert started, stack_log.read_text()
        os.kill(int(started[1]), signal.SIGKILL)

        deadline = time.monotonic() + 60
        while "worker-cpu started again" not in stack.output():
            assert stack.process.poll() is None, stack.output()[-3000:]
            assert time.monotonic() < deadline, stack.output()[-3000:]
            time.sleep(0.5)
        assert "worker-cpu was killed by SIGKILL" in stack_log.read_text()
        for _ in range(3):  # the new worker may still be importing its modules
            check = subprocess.run(
                [sys.executable, "-m", "nexus", "check", "api", "workers"],
                env=stack_env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            if check.returncode == 0:
                break
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        code = stack.interrupt()
    assert code == 0, stack.output()[-3000:]
    assert "Stopped." in stack.output()
