"""E-mail in development goes to a mail catcher that `nexus up` starts: an SMTP server on
loopback keeping every message for the portal. Production sends only through an SMTP server
it is given."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from integrations.notifications import Message
from integrations.notifications.smtp import SmtpEmail
from models.notifications import caught
from nexus import devstack
from nexus.devstack import DevStack
from nexus.settings import Settings
from tests.support import free_port


def test_development_e_mail_goes_to_the_mail_catcher_unless_smtp_is_set() -> None:
    development = Settings(env="development", notifications={"mail_catcher_port": 2525})
    mail = development.notifications
    assert (mail.smtp_host, mail.smtp_port, mail.smtp_starttls) == ("127.0.0.1", 2525, False)
    assert mail.mail_catcher

    own = Settings(env="development", notifications={"smtp_host": "smtp.example.com"})
    assert own.notifications.smtp_host == "smtp.example.com"
    assert own.notifications.smtp_port == 587 and not own.notifications.mail_catcher

    assert Settings(env="test").notifications.smtp_host is None
    # Production has no catcher: without its own SMTP server it sends no e-mail at all.
    # (The validator alone: a whole production configuration needs every secret.)
    raw = {"env": "production", "notifications": {}}
    unchanged = Settings._development_mail_goes_to_the_catcher(raw)  # type: ignore[operator]
    assert unchanged == raw


def test_the_mail_catcher_is_not_started_where_e_mail_goes_elsewhere() -> None:
    settings = Settings(env="development", notifications={"smtp_host": "smtp.example.com"})
    assert "Mail " not in DevStack(settings).banner([])


def test_nexus_up_starts_the_mail_catcher_which_keeps_what_it_receives(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database_url: str,
) -> None:
    port = free_port()
    # The stack's children read their settings from the environment, as under `nexus up`.
    monkeypatch.setenv("NEXUS_ENV", "development")
    monkeypatch.setenv("NEXUS_DATABASE__URL", database_url)
    monkeypatch.setenv("NEXUS_NOTIFICATIONS__MAIL_CATCHER_PORT", str(port))
    monkeypatch.setenv("NEXUS_GATEWAY__ENABLED", "false")
    settings = Settings(stack={"state_dir": tmp_path})
    assert settings.notifications.mail_catcher
    # Everything but the mail catcher is the other tests' (tests/test_stack.py runs it all).
    started: list[str] = []
    real_spawn = DevStack._spawn

    def spawn(self: DevStack, name: str, argv: list[str]) -> None:
        started.append(name)
        if name == "mail":
            real_spawn(self, name, argv)

    monkeypatch.setattr(DevStack, "_spawn", spawn)
    monkeypatch.setattr(DevStack, "_preflight", lambda self: None)
    monkeypatch.setattr(DevStack, "_start_postgres", lambda self, postgres: None)
    monkeypatch.setattr(DevStack, "_start_temporal", lambda self: None)
    monkeypatch.setattr(DevStack, "_wait_for_platform", lambda self: None)
    monkeypatch.setattr(devstack, "upgrade_to_head", lambda url: None)
    monkeypatch.setattr(devstack, "seed_demo", lambda session, hasher: [])
    monkeypatch.setattr(devstack, "installation_secrets", lambda state_dir, environ: {})

    stack = DevStack(settings)
    try:
        stack.start()
        out = capsys.readouterr().out
        assert "nexus up: starting the mail catcher ..." in out
        assert started == ["mail", "worker-cpu", "worker-gpu", "api"]
        assert f"  Mail        smtp://127.0.0.1:{port} catches every e-mail" in stack.banner([])
        assert "/portal/mail" in stack.banner([])

        # A real e-mail from the platform's sender, over SMTP, to the catcher's process.
        SmtpEmail(settings.notifications).deliver([
            Message(event_key=f"k-{uuid.uuid4()}", user_id=None, email="Ana@Example.com",
                    kind="invitation", title="You are invited to Glow", body="Join us.",
                    link="/portal/invitations/t0k3n"),
        ])  # fmt: skip
        engine = create_engine(database_url)
        try:
            deadline = time.monotonic() + 10
            while True:
                with Session(engine) as session:
                    kept = caught(session, recipient="ana@example.com", limit=5)
                if kept or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        finally:
            engine.dispose()
        assert [m.subject for m in kept] == ["You are invited to Glow"]
        assert "http://127.0.0.1:8000/portal/invitations/t0k3n" in kept[0].text
    finally:
        stack.stop()
    assert "caught 'You are invited to Glow'" in (tmp_path / "logs" / "mail.log").read_text()
