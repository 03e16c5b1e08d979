from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from pydantic import ValidationError

from api.security import decode_access_token
from nexus.devstack import installation_secrets, kept_secrets
from nexus.errors import Unauthenticated
from nexus.settings import MissingSecret, Settings

STRONG = "s" * 40
# The secrets earlier releases shipped as defaults in the source: public, so refused.
OLD_JWT_SECRET = "dev-insecure-jwt-secret-change-me"
OLD_LEDGER_KEY = "6e657875732d6465762d6c65646765722d6b65792d6e6f742d666f722d70726f"
SECRET_VARIABLES = (
    "NEXUS_AUTH__JWT_SECRET",
    "NEXUS_LICENSING__LEDGER_SIGNING_KEY",
    "NEXUS_PAYMENTS__STRIPE_WEBHOOK_SECRET",
    "NEXUS_PAYMENTS__STRIPE_API_KEY",
    "NEXUS_PAYMENTS__PAYOUT_DETAILS_KEY",
)
# The platform's own bank account and payout-details key, which production requires.
REAL_PAYMENTS = {
    "bank_beneficiary": "Nexus Escrow Ltd",
    "bank_name": "Barclays",
    "bank_iban": "GB82WEST12345698765432",
    "bank_bic": "WESTGB2L",
    "bank_us_routing_number": "",
    "bank_us_account_number": "",
    "payout_details_key": "3c" * 32,
}


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}


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
        temporal={"address": "temporal:7233", "api_key": "temporal-cloud-key"},
        payments=REAL_PAYMENTS,
    )
    assert settings.env == "production"
    assert not settings.payments.example_bank


def test_production_refuses_the_example_bank_details_and_a_missing_payout_details_key() -> None:
    with pytest.raises(ValidationError) as excinfo:
        Settings(
            env="production",
            auth={"jwt_secret": STRONG},
            database={"url": "postgresql+psycopg://app:Str0ng-pass@db:5432/nexus"},
            licensing={"ledger_signing_key": "9e" * 32},
            temporal={"address": "temporal:7233", "api_key": "temporal-cloud-key"},
        )
    message = str(excinfo.value)
    assert "NEXUS_PAYMENTS__PAYOUT_DETAILS_KEY" in message
    assert "NEXUS_PAYMENTS__BANK_IBAN" in message and "examples" in message
    # Development runs on the example details, which say what they are.
    assert Settings().payments.example_bank
    assert "EXAMPLE" in Settings().payments.bank_beneficiary
    for bad in ("not-hex", "ab" * 31):
        with pytest.raises(ValidationError, match="32 random bytes"):
            Settings(payments={"payout_details_key": bad})


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
    temporal = {"address": "temporal:7233", "api_key": "temporal-cloud-key"}
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
            **REAL_PAYMENTS,
        },
        auth=auth,
        database=database,
        licensing=licensing,
        temporal=temporal,
    )
    assert ok.payments.provider == "stripe"
    manual = Settings(
        env="production",
        auth=auth,
        database=database,
        licensing=licensing,
        temporal=temporal,
        payments=REAL_PAYMENTS,
    )
    assert manual.payments.provider == "manual"


def test_no_secret_has_a_value_in_the_source(no_secrets: dict[str, str]) -> None:
    settings = Settings(payments={"provider": "stripe"})
    assert settings.missing_secrets("api") == [
        "NEXUS_AUTH__JWT_SECRET",
        "NEXUS_LICENSING__LEDGER_SIGNING_KEY",
        "NEXUS_PAYMENTS__STRIPE_API_KEY",
        "NEXUS_PAYMENTS__STRIPE_WEBHOOK_SECRET",
        "NEXUS_PAYMENTS__PAYOUT_DETAILS_KEY",
    ]
    for secret in (settings.auth.jwt_secret, settings.payments.stripe_webhook_secret):
        with pytest.raises(MissingSecret, match="is not set"):
            secret.get_secret_value()
    with pytest.raises(MissingSecret, match="NEXUS_LICENSING__LEDGER_SIGNING_KEY"):
        settings.licensing.signing_seed()
    assert Settings().missing_secrets("worker-gpu") == []


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (["api"], "NEXUS_AUTH__JWT_SECRET"),
        (["worker", "cpu"], "NEXUS_LICENSING__LEDGER_SIGNING_KEY"),
    ],
)
def test_a_process_without_its_secrets_refuses_to_start(
    no_secrets: dict[str, str], command: list[str], named: str
) -> None:
    started = subprocess.run(
        [sys.executable, "-m", "nexus", *command],
        env=no_secrets,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 2
    assert named in started.stderr and "cannot start" in started.stderr


@pytest.mark.parametrize(
    "section",
    [
        {"auth": {"jwt_secret": OLD_JWT_SECRET}},
        {"licensing": {"ledger_signing_key": OLD_LEDGER_KEY}},
        {"payments": {"stripe_webhook_secret": "whsec_placeholder"}},
    ],
)
def test_the_old_public_secrets_are_refused_everywhere(section: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="public"):
        Settings(env="development", **section)  # type: ignore[arg-type]


def test_the_dev_stack_makes_secrets_once_per_installation(
    tmp_path: Path, no_secrets: dict[str, str]
) -> None:
    made = installation_secrets(tmp_path, {})
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert installation_secrets(tmp_path, {}) == made  # reused on the next start
    assert installation_secrets(tmp_path / "other", {}) != made  # per installation
    # A secret the operator set wins over the generated one.
    assert "NEXUS_AUTH__JWT_SECRET" not in installation_secrets(
        tmp_path, {"NEXUS_AUTH__JWT_SECRET": STRONG}
    )
    settings = Settings(
        auth={"jwt_secret": made["NEXUS_AUTH__JWT_SECRET"]},
        licensing={"ledger_signing_key": made["NEXUS_LICENSING__LEDGER_SIGNING_KEY"]},
        payments={"payout_details_key": made["NEXUS_PAYMENTS__PAYOUT_DETAILS_KEY"]},
    )
    assert settings.missing_secrets("api") == settings.missing_secrets("worker-cpu") == []


def test_a_token_signed_with_the_old_source_secret_is_refused(
    tmp_path: Path, no_secrets: dict[str, str]
) -> None:
    made = installation_secrets(tmp_path, {})
    settings = Settings(auth={"jwt_secret": made["NEXUS_AUTH__JWT_SECRET"]})
    now = datetime.now(UTC)
    claims = {
        "sub": "8c1b8b4e-3f55-4b3c-9a43-8d0e7a3f2b10",
        "wid": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "role": "ops",
        "iss": settings.auth.jwt_issuer,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "forged",
    }
    forged = jwt.encode(claims, OLD_JWT_SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        decode_access_token(settings.auth, forged)
    genuine = jwt.encode(claims, made["NEXUS_AUTH__JWT_SECRET"], algorithm="HS256")
    assert decode_access_token(settings.auth, genuine).role.value == "ops"


def test_operator_commands_read_the_secrets_nexus_up_made(tmp_path: Path) -> None:
    assert kept_secrets(tmp_path, {}) == {}
    assert not (tmp_path / "secrets.json").exists()  # reading makes nothing
    made = installation_secrets(tmp_path, {})
    assert kept_secrets(tmp_path, {}) == made
    set_here = {"NEXUS_AUTH__JWT_SECRET": "x" * 40}
    assert "NEXUS_AUTH__JWT_SECRET" not in kept_secrets(tmp_path, set_here)


def test_a_threatexchange_sync_needs_a_numeric_group_and_an_app_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not Settings().moderation.threatexchange.configured  # no sync by default
    monkeypatch.setenv("NEXUS_MODERATION__THREATEXCHANGE__PRIVACY_GROUP", "303636684709969")
    with pytest.raises(ValidationError, match="APP_ID\\|APP_SECRET"):
        Settings()
    monkeypatch.setenv("NEXUS_MODERATION__THREATEXCHANGE__ACCESS_TOKEN", "1234|secret")
    synced = Settings().moderation.threatexchange
    assert synced.configured and synced.every_s == 3600
    monkeypatch.setenv("NEXUS_MODERATION__THREATEXCHANGE__PRIVACY_GROUP", "my-group")
    with pytest.raises(ValidationError, match="privacy_group"):
        Settings()
