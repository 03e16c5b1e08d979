from __future__ import annotations

import pytest
from pydantic import ValidationError

from nexus.settings import Settings

STRONG = "s" * 40


def test_environment_overrides_nested_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXUS_TEMPORAL__ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("NEXUS_API__PORT", "9000")
    monkeypatch.setenv("NEXUS_API__CORS_ORIGINS", '["https://portal.example"]')
    monkeypatch.setenv("NEXUS_GPU__DEVICE", "cpu")
    settings = Settings()
    assert settings.temporal.address == "temporal.internal:7233"
    assert settings.api.port == 9000
    assert settings.api.cors_origins == ["https://portal.example"]
    assert settings.gpu.device == "cpu"


def test_development_defaults_run_the_embedded_stack() -> None:
    settings = Settings()
    assert settings.env == "development"
    assert settings.database.url.get_secret_value().startswith("postgresql+psycopg://")
    assert "nexus:nexus@" not in repr(settings)  # secrets are masked in logs and reprs


def test_production_refuses_placeholder_secrets() -> None:
    with pytest.raises(ValidationError) as excinfo:
        Settings(env="production")
    message = str(excinfo.value)
    assert "NEXUS_AUTH__JWT_SECRET" in message
    assert "NEXUS_DATABASE__URL" in message
    assert "NEXUS_LICENSING__LEDGER_SIGNING_KEY" in message


def test_production_refuses_a_short_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(
            env="production",
            auth={"jwt_secret": "short-but-not-placeholder"},
            database={"url": "postgresql+psycopg://app:Str0ng-pass@db:5432/nexus"},
        )


def test_production_accepts_real_secrets() -> None:
    settings = Settings(
        env="production",
        auth={"jwt_secret": STRONG},
        database={"url": "postgresql+psycopg://app:Str0ng-pass@db:5432/nexus"},
        licensing={"ledger_signing_key": "9e" * 32},
    )
    assert settings.env == "production"


def test_the_ledger_signing_key_must_be_an_ed25519_seed() -> None:
    for bad in ("not-hex", "ab" * 31):
        with pytest.raises(ValidationError, match="32-byte Ed25519 seed"):
            Settings(licensing={"ledger_signing_key": bad})


def test_invalid_values_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(api={"port": 70000})
    with pytest.raises(ValidationError):
        Settings(telemetry={"exporter": "zipkin"})


def test_production_with_stripe_refuses_placeholder_stripe_secrets() -> None:
    auth = {"jwt_secret": STRONG}
    database = {"url": "postgresql+psycopg://a:Pw-1@db/n"}
    licensing = {"ledger_signing_key": "9e" * 32}
    with pytest.raises(ValidationError) as excinfo:
        Settings(
            env="production",
            payments={"provider": "stripe"},
            auth=auth,
            database=database,
            licensing=licensing,
        )
    assert "NEXUS_PAYMENTS__STRIPE_API_KEY" in str(excinfo.value)
    assert "NEXUS_PAYMENTS__STRIPE_WEBHOOK_SECRET" in str(excinfo.value)
    ok = Settings(
        env="production",
        payments={
            "provider": "stripe",
            "stripe_api_key": "sk_live_" + STRONG,
            "stripe_webhook_secret": "whsec_" + STRONG,
        },
        auth=auth,
        database=database,
        licensing=licensing,
    )
    assert ok.payments.provider == "stripe"
    manual = Settings(env="production", auth=auth, database=database, licensing=licensing)
    assert manual.payments.provider == "manual"
