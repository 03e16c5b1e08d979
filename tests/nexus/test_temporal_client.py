"""How the API and workers reach Temporal: mTLS or an API key in production, never an
unauthenticated frontend there, and a dev server that listens on loopback only."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from pydantic import ValidationError
from temporalio.client import Client
from temporalio.service import TLSConfig

from nexus import temporal
from nexus.devstack import temporal_server_argv
from nexus.settings import Settings, TemporalSettings
from tests.nexus.test_settings import REAL_PAYMENTS
from tests.support import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "env": "production",
    "database": {"url": "postgresql+psycopg://nexus:Zq7-vN2kP9xR4tL8wB3m@db:5432/nexus"},
    "auth": {"jwt_secret": "k3J9sQ2vX8pL5wN7rT4yB6mH1cF0dG2eA9uZ"},
    "licensing": {"ledger_signing_key": "5f1c0d9a" * 8},
    "payments": REAL_PAYMENTS,
}


def production(**temporal_settings: Any) -> Settings:
    return Settings(**PRODUCTION, temporal=temporal_settings)  # type: ignore[arg-type]


def test_production_refuses_a_temporal_frontend_without_client_authentication() -> None:
    with pytest.raises(ValidationError, match="NEXUS_TEMPORAL__ADDRESS temporal:7233"):
        production(address="temporal:7233")
    # Allowing plaintext on loopback does not allow it anywhere else.
    with pytest.raises(ValidationError, match="needs client authentication"):
        production(address="temporal:7233", allow_insecure_loopback=True)
    # TLS without a client identity authenticates the server only.
    with pytest.raises(ValidationError, match="needs client authentication"):
        production(address="temporal:7233", tls=True)


def test_production_takes_mtls_an_api_key_or_an_allowed_loopback(tmp_path: Path) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    mtls = production(address="temporal:7233", tls_cert_path=cert, tls_key_path=key)
    assert mtls.temporal.tls_cert_path == cert
    assert production(address="ns.tmprl.cloud:7233", api_key="key").temporal.uses_tls
    for address in ("127.0.0.1:7233", "localhost:7233", "[::1]:7233"):
        production(address=address, allow_insecure_loopback=True)
    # Development keeps the plaintext dev server.
    assert Settings(temporal={"address": "temporal:7233"}).temporal.uses_tls is False


def test_a_client_certificate_needs_its_key() -> None:
    with pytest.raises(ValidationError, match="TLS_CERT_PATH and __TLS_KEY_PATH go together"):
        TemporalSettings(tls_cert_path=Path("client.pem"))


def test_the_client_factory_passes_the_certificates_and_the_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"ca.pem": b"CA", "client.pem": b"CERT", "client.key": b"KEY"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    settings = TemporalSettings(
        address="temporal:7233",
        namespace="prod",
        tls_cert_path=tmp_path / "client.pem",
        tls_key_path=tmp_path / "client.key",
        tls_ca_path=tmp_path / "ca.pem",
        tls_server_name="temporal.internal",
        api_key="cloud-key",
    )
    seen: dict[str, Any] = {}

    made = object()

    async def fake_connect(target_host: str, **options: Any) -> object:
        seen.update(options, target_host=target_host)
        return made

    monkeypatch.setattr(Client, "connect", fake_connect)

    assert asyncio.run(temporal.connect(settings)) is cast(Client, made)
    assert (seen["target_host"], seen["namespace"], seen["api_key"]) == (
        "temporal:7233",
        "prod",
        "cloud-key",
    )
    tls = seen["tls"]
    assert isinstance(tls, TLSConfig)
    assert (tls.server_root_ca_cert, tls.client_cert, tls.client_private_key) == (
        b"CA",
        b"CERT",
        b"KEY",
    )
    assert tls.domain == "temporal.internal"


def test_tls_is_off_for_the_dev_server_and_system_roots_for_an_api_key(tmp_path: Path) -> None:
    assert temporal.tls_config(TemporalSettings()) is False
    assert temporal.tls_config(TemporalSettings(api_key="k")) is True
    assert temporal.tls_config(TemporalSettings(tls=True)) is True
    # A certificate file that is not there stops the process at start, not at first call.
    with pytest.raises(FileNotFoundError):
        temporal.tls_config(TemporalSettings(tls_ca_path=tmp_path / "missing.pem"))


def _listening_addresses(pid: int) -> set[str]:
    """Local addresses of the TCP sockets `pid` listens on (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = fd.readlink().as_posix() if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # LISTEN
                found.add(_address(local))
    return found


def _address(hex_address: str) -> str:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return f"{'.'.join(str(b) for b in reversed(raw))}:{int(port, 16)}"
    words = [raw[i : i + 4][::-1].hex() for i in range(0, 16, 4)]
    return f"[{':'.join(words)}]:{int(port, 16)}"


def test_the_dev_server_listens_on_loopback_only(tmp_path: Path) -> None:
    grpc = free_port()
    settings = Settings(
        temporal={"address": f"127.0.0.1:{grpc}"},
        stack={
            "temporal_ui_port": free_port(),
            "temporal_http_port": free_port(),
            "temporal_metrics_port": free_port(),
        },
    )
    process = subprocess.Popen(
        temporal_server_argv(settings, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(grpc, process)
        wait_for_port(settings.stack.temporal_ui_port, process)
        time.sleep(0.5)  # the internal services open theirs beside the frontend
        addresses = _listening_addresses(process.pid)
    finally:
        process.terminate()
        process.wait(10)
    # gRPC, UI, HTTP, metrics and the internal services' ports at least.
    assert len(addresses) >= 4, addresses
    assert all(a.startswith("127.0.0.1:") for a in addresses), addresses
    assert f"127.0.0.1:{grpc}" in addresses


def test_the_production_stack_requires_client_certificates_of_every_temporal_client() -> None:
    compose = yaml.safe_load((REPO / "temporal-compose.yml").read_text())["services"]
    server = compose["temporal"]["environment"]
    assert server["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] == "true"
    assert server["TEMPORAL_TLS_CLIENT1_CA_CERT"] == server["TEMPORAL_TLS_SERVER_CA_CERT"]
    health = compose["temporal"]["healthcheck"]["test"]
    assert "--tls-cert-path=/etc/temporal/tls/client.pem" in health
    for name in ("api", "worker-cpu", "worker-gpu"):
        mounts = [v.rsplit(":", 2)[1] for v in compose[name]["volumes"]]
        assert "/etc/nexus/temporal-tls" in mounts, name
    for name in ("temporal", "temporal-admin-tools", "temporal-ui"):
        mounts = [v.rsplit(":", 2)[1] for v in compose[name]["volumes"]]
        assert "/etc/temporal/tls" in mounts, name
    assert (REPO / "deploy/temporal/make-certs.sh").exists()
