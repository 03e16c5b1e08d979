"""Platform settings, read once at start-up from ``NEXUS_``-prefixed environment variables.

Nested sections use ``__`` as delimiter, e.g. ``NEXUS_DATABASE__URL`` or
``NEXUS_TEMPORAL__ADDRESS``. The defaults describe the embedded development stack.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset(
    {
        "dev-insecure-jwt-secret-change-me",
        "nexus",
        "changeme",
        "",
        "sk_test_placeholder",
        "whsec_placeholder",
    }
)

Environment = Literal["development", "test", "production"]


class DatabaseSettings(BaseModel):
    url: SecretStr = SecretStr("postgresql+psycopg://nexus:nexus@127.0.0.1:55432/nexus")
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)


class TemporalSettings(BaseModel):
    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    # Base name; the CPU and GPU pools poll "<base>.cpu" and "<base>.gpu" (workflows.task_queues).
    task_queue: str = "nexus"


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Upper bound for the workflow calls an API request makes (start, update, query).
    workflow_rpc_timeout_s: float = Field(default=10.0, gt=0)


class AuthSettings(BaseModel):
    jwt_secret: SecretStr = SecretStr("dev-insecure-jwt-secret-change-me")
    jwt_issuer: str = "nexus"
    access_token_ttl_s: int = Field(default=900, ge=30, le=86_400)


class TelemetrySettings(BaseModel):
    exporter: Literal["none", "console"] = "none"
    service_name: str = "nexus"


class GpuSettings(BaseModel):
    # "auto" uses CUDA when torch sees a device, otherwise the CPU.
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_concurrent_activities: int = Field(default=2, ge=1)


class NotificationSettings(BaseModel):
    """The in-app inbox is always on; e-mail goes out too when an SMTP host is set."""

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    sender: str = "NEXUS <no-reply@nexus.example>"
    portal_url: str = "http://127.0.0.1:8000"


# Development signing key of the rights ledger (32-byte Ed25519 seed, hex); refused in production.
DEV_LEDGER_KEY = "6e657875732d6465762d6c65646765722d6b65792d6e6f742d666f722d70726f"


class LicensingSettings(BaseModel):
    reminder_days_before_expiry: list[int] = Field(default_factory=lambda: [30, 7])
    # A signed Merkle checkpoint after every this many ledger entries, and at least this
    # often (a Temporal Schedule) for the entries that came since the last one.
    checkpoint_every: int = Field(default=1000, ge=1)
    checkpoint_interval_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    ledger_signing_key: SecretStr = SecretStr(DEV_LEDGER_KEY)

    @field_validator("ledger_signing_key")
    @classmethod
    def _ed25519_seed(cls, key: SecretStr) -> SecretStr:
        try:
            ok = len(bytes.fromhex(key.get_secret_value())) == 32
        except ValueError:
            ok = False
        if not ok:
            raise ValueError("must be a 32-byte Ed25519 seed in hex (64 hex digits)")
        return key

    def signing_seed(self) -> bytes:
        return bytes.fromhex(self.ledger_signing_key.get_secret_value())


class PaymentSettings(BaseModel):
    """Money movement. "manual" (the embedded default): brands pay by bank transfer that ops
    confirm, creators are paid from a batch file ops export and confirm once settled.
    "stripe": cards through PaymentIntents, creators through Connect Express accounts."""

    provider: Literal["manual", "stripe"] = "manual"
    stripe_api_key: SecretStr = SecretStr("sk_test_placeholder")
    # Stripe's own API when unset; tests point it at a local emulator.
    stripe_api_base: str | None = None
    stripe_webhook_secret: SecretStr = SecretStr("whsec_placeholder")
    webhook_tolerance_s: int = Field(default=300, ge=1, le=3600)
    # The platform fee a brand pays on top of a campaign's budget, in basis points.
    platform_fee_bps: int = Field(default=1_000, ge=0, le=5_000)
    # Where Stripe sends a creator after (or to restart) onboarding.
    onboarding_return_url: str = "http://127.0.0.1:8000/portal"


class StackSettings(BaseModel):
    """Ports and state directory of the embedded development stack (`nexus up`)."""

    # PostgreSQL listens on the port of NEXUS_DATABASE__URL, Temporal on NEXUS_TEMPORAL__ADDRESS.
    state_dir: Path = Path(".nexus")
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)
    temporal_http_port: int = Field(default=7243, ge=1, le=65535)
    temporal_metrics_port: int = Field(default=7244, ge=1, le=65535)
    postgres_bin_dir: Path | None = None
    temporal_cli: Path = Path(sys.prefix) / "bin" / "temporal"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEXUS_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    env: Environment = "development"
    database: DatabaseSettings = DatabaseSettings()
    temporal: TemporalSettings = TemporalSettings()
    api: ApiSettings = ApiSettings()
    auth: AuthSettings = AuthSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    gpu: GpuSettings = GpuSettings()
    notifications: NotificationSettings = NotificationSettings()
    licensing: LicensingSettings = LicensingSettings()
    payments: PaymentSettings = PaymentSettings()
    stack: StackSettings = StackSettings()

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        if (
            self.auth.jwt_secret.get_secret_value() in PLACEHOLDER_SECRETS
            or len(self.auth.jwt_secret.get_secret_value()) < 32
        ):
            problems.append("NEXUS_AUTH__JWT_SECRET must be a real secret of 32+ characters")
        from sqlalchemy.engine import make_url

        password = make_url(self.database.url.get_secret_value()).password
        if password is None or password in PLACEHOLDER_SECRETS:
            problems.append("NEXUS_DATABASE__URL must carry a real password")
        if self.licensing.ledger_signing_key.get_secret_value() == DEV_LEDGER_KEY:
            problems.append("NEXUS_LICENSING__LEDGER_SIGNING_KEY must be a real Ed25519 seed")
        if self.payments.provider == "stripe":
            if self.payments.stripe_api_key.get_secret_value() in PLACEHOLDER_SECRETS:
                problems.append("NEXUS_PAYMENTS__STRIPE_API_KEY must be a real Stripe key")
            if self.payments.stripe_webhook_secret.get_secret_value() in PLACEHOLDER_SECRETS:
                problems.append("NEXUS_PAYMENTS__STRIPE_WEBHOOK_SECRET must be a real secret")
        if problems:
            raise ValueError("; ".join(problems))
        return self
