"""The gateway in front of the API and the portal: nginx with ModSecurity v3 and the OWASP Core
Rule Set, all three from Debian (`nginx`, `libnginx-mod-http-modsecurity`, `modsecurity-crs`).

The configuration lives in deploy/gateway/: Jinja templates rendered here (nginx.conf.j2,
modsecurity.conf.j2, and exclusions.conf.j2, our rule exclusions) and the static CRS settings
they include (crs-setup.conf). The dev stack (`nexus up`) renders them into
`<state dir>/gateway` and runs `nginx -p <that dir> -c nginx.conf` in the foreground as one of
its children; the tests run it the same way in front of an app served by uvicorn. Production
renders the same templates with TLS (`python -m nexus.gateway render --production ...`, see
deploy/gateway/README.md).

Only jinja2 is imported at module level, so the gateway image can render its configuration
with this file alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, StrictUndefined

if TYPE_CHECKING:
    from nexus.settings import Settings

# deploy/gateway of this checkout; the gateway image copies it to /etc/nexus-gateway.
CONFIG_DIR = Path(__file__).resolve().parents[1] / "deploy" / "gateway"
NGINX_CONF = "nginx.conf"
MODSECURITY_CONF = "modsecurity.conf"
EXCLUSIONS_CONF = "exclusions.conf"
AUDIT_LOG = "modsec_audit.log"
ACCESS_LOG = "gateway-access.log"
ERROR_LOG = "gateway-error.log"
# Directories nginx writes to (request bodies, proxy buffers) and ModSecurity's scratch space.
_SCRATCH = ("client-body", "proxy", "fastcgi", "uwsgi", "scgi", "modsecurity-tmp")
_DATA = "modsecurity-data"


class GatewayError(RuntimeError):
    """A one-line reason the gateway cannot be configured or started."""


@dataclass(frozen=True)
class Tls:
    """TLS termination at the gateway (production): the certificate chain and its key."""

    certificate: Path
    certificate_key: Path
    listen: str = "443"
    server_name: str = "_"


@dataclass(frozen=True)
class GatewayConfig:
    """What the templates need: where the gateway listens, the API behind it, the body
    limits, and where its state, logs and the Debian files are."""

    listen: str  # "127.0.0.1:8080", or "80"
    upstream: str  # "127.0.0.1:8000", "api:8000"
    # Every body but a media upload (the API's NEXUS_API__MAX_BODY_BYTES).
    body_limit: int
    # A video PUT to an upload target (NEXUS_MEDIA__MAX_UPLOAD_BYTES).
    media_limit: int
    # Rendered files, pid, temp directories (`nginx -p`).
    state_dir: Path
    logs_dir: Path
    config_dir: Path = CONFIG_DIR
    modules_dir: Path = Path("/usr/lib/nginx/modules")
    crs_dir: Path = Path("/usr/share/modsecurity-crs")
    mime_types: Path = Path("/etc/nginx/mime.types")
    unicode_map: Path = Path("/etc/nginx/unicode.mapping")
    worker_processes: str = "auto"
    tls: Tls | None = None
    # The user nginx's workers run as when the master starts as root (nginx's default:
    # nobody, who may not reach a state directory under a private home or temp directory).
    user: str | None = None

    @property
    def conf(self) -> Path:
        return self.state_dir / NGINX_CONF

    @property
    def audit_log(self) -> Path:
        return self.logs_dir / AUDIT_LOG

    @property
    def access_log(self) -> Path:
        return self.logs_dir / ACCESS_LOG

    @property
    def error_log(self) -> Path:
        return self.logs_dir / ERROR_LOG


def config_for(
    settings: Settings, state_dir: Path, logs_dir: Path, *, upstream: str | None = None
) -> GatewayConfig:
    """The dev stack's gateway: in front of the API of `settings` (or `upstream`)."""
    gateway = settings.gateway
    return GatewayConfig(
        listen=f"{gateway.host}:{gateway.port}",
        upstream=upstream or f"{_loopback(settings.api.host)}:{settings.api.port}",
        body_limit=settings.api.max_body_bytes,
        media_limit=settings.media.max_upload_bytes,
        state_dir=state_dir,
        logs_dir=logs_dir,
        modules_dir=gateway.modules_dir,
        crs_dir=gateway.crs_dir,
        worker_processes=gateway.worker_processes,
        user=dev_user(),
    )


def _loopback(host: str) -> str:
    """Where to reach an API that listens on `host`: itself, or loopback for a wildcard."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def dev_user() -> str | None:
    """As root (development containers), the workers stay root like the rest of the dev
    stack, so that they reach its state directory wherever it is; unset otherwise (an
    unprivileged nginx has no user to switch to)."""
    return "root" if os.geteuid() == 0 else None


def _check_installed(config: GatewayConfig) -> None:
    needed = {
        config.modules_dir / "ngx_http_modsecurity_module.so": "libnginx-mod-http-modsecurity",
        config.modules_dir / "ndk_http_module.so": "libnginx-mod-http-ndk",
        config.crs_dir / "rules" / "REQUEST-949-BLOCKING-EVALUATION.conf": "modsecurity-crs",
        config.mime_types: "nginx-common",
        config.unicode_map: "libnginx-mod-http-modsecurity",
    }
    for path, package in needed.items():
        if not path.exists():
            raise GatewayError(
                f"{path} not found: install it with `apt-get install -y nginx "
                f"libnginx-mod-http-modsecurity modsecurity-crs` ({package}; `make install` "
                "does it) or set NEXUS_GATEWAY__ENABLED=false"
            )


def render(config: GatewayConfig, *, check: bool = True) -> Path:
    """Write nginx.conf and modsecurity.conf into the state directory and make the
    directories nginx and ModSecurity write to; return the nginx.conf path."""
    if check:
        _check_installed(config)
    environment = Environment(
        loader=FileSystemLoader(config.config_dir),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        autoescape=False,  # noqa: S701 - nginx and ModSecurity configuration, not HTML
    )
    tls = config.tls
    values = {
        "listen": config.listen,
        "upstream": config.upstream,
        "body_limit": config.body_limit,
        "media_limit": config.media_limit,
        # Bodies up to the API's limit stay in memory; larger uploads stream through.
        "body_buffer": min(config.body_limit, 1024 * 1024),
        "state_dir": config.state_dir,
        "logs_dir": config.logs_dir,
        "config_dir": config.config_dir,
        "modules_dir": config.modules_dir,
        "crs_dir": config.crs_dir,
        "mime_types": config.mime_types,
        "unicode_map": config.unicode_map,
        "audit_log": config.audit_log,
        "worker_processes": config.worker_processes,
        "user": config.user,
        "tls": tls is not None,
        "tls_listen": tls.listen if tls else "",
        "server_name": tls.server_name if tls else "_",
        "tls_certificate": tls.certificate if tls else "",
        "tls_certificate_key": tls.certificate_key if tls else "",
    }
    config.state_dir.mkdir(parents=True, exist_ok=True)
    config.logs_dir.mkdir(parents=True, exist_ok=True)
    for name in (*_SCRATCH, _DATA):
        (config.state_dir / name).mkdir(exist_ok=True)
    for template, target in (
        ("nginx.conf.j2", NGINX_CONF),
        ("modsecurity.conf.j2", MODSECURITY_CONF),
        ("exclusions.conf.j2", EXCLUSIONS_CONF),
    ):
        text = environment.get_template(template).render(values)
        (config.state_dir / target).write_text(text)
    return config.conf


def nginx_argv(nginx: Path, config: GatewayConfig) -> list[str]:
    """nginx in the foreground (`daemon off` is in the file), its prefix the state directory."""
    return [str(nginx), "-p", str(config.state_dir), "-c", str(config.conf), "-e", "stderr"]


def check_config(nginx: Path, config: GatewayConfig) -> None:
    """`nginx -t`: loads the modules, the CRS and our exclusions; GatewayError with nginx's
    complaint when anything is wrong."""
    if not nginx.exists() and shutil.which(str(nginx)) is None:
        raise GatewayError(
            f"nginx not found at {nginx}: install it with `apt-get install -y nginx "
            "libnginx-mod-http-modsecurity modsecurity-crs` (`make install` does it) or set "
            "NEXUS_GATEWAY__ENABLED=false"
        )
    done = subprocess.run(
        [*nginx_argv(nginx, config), "-t", "-q"], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        complaint = " ".join((done.stderr or done.stdout).split())
        raise GatewayError(f"the gateway's configuration does not load: {complaint}")


def wait_listening(config: GatewayConfig, alive: Callable[[], bool], timeout_s: float = 30) -> None:
    """Wait until nginx accepts connections on its listener."""
    host, _, port = config.listen.rpartition(":")
    deadline = time.monotonic() + timeout_s
    while True:
        if not alive():
            raise GatewayError(f"nginx exited during start-up; see {config.error_log}")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise GatewayError(
                    f"the gateway did not listen on {config.listen}; see {config.error_log}"
                ) from None
        time.sleep(0.05)


def wait_answering(url: str, timeout_s: float = 30) -> None:
    """Wait until a request through the gateway is answered by the API behind it (not 502)."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own URL
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        if time.monotonic() > deadline:
            raise GatewayError(f"the API did not answer through the gateway at {url}: {last}")
        time.sleep(0.2)


@contextmanager
def running(config: GatewayConfig, nginx: Path = Path("/usr/sbin/nginx")) -> Iterator[Popen[bytes]]:
    """The gateway as a child of this process, for the tests and bench/edge.py (the dev stack
    supervises its own): rendered, checked, started, listening; stopped on the way out."""
    render(config)
    check_config(nginx, config)
    with (config.logs_dir / "gateway.log").open("ab") as log:
        process = subprocess.Popen(
            nginx_argv(nginx, config), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_listening(config, lambda: process.poll() is None)
        yield process
    finally:
        if process.poll() is None:
            # QUIT: finish the requests in flight, then stop.
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- production rendering ------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nexus.gateway",
        description="Render the gateway's nginx and ModSecurity configuration.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    render_cmd = sub.add_parser("render", help="write nginx.conf and modsecurity.conf into --out")
    render_cmd.add_argument("--out", type=Path, required=True, help="state directory (nginx -p)")
    render_cmd.add_argument("--logs", type=Path, help="log directory (default: OUT/logs)")
    render_cmd.add_argument("--config-dir", type=Path, default=CONFIG_DIR)
    render_cmd.add_argument("--upstream", default="api:8000", help="the API, host:port")
    render_cmd.add_argument("--listen", default="8080", help="plain HTTP listener")
    render_cmd.add_argument("--body-limit", type=int, default=1_048_576)
    render_cmd.add_argument("--media-limit", type=int, default=2 * 1024**3)
    render_cmd.add_argument("--workers", default="auto")
    render_cmd.add_argument(
        "--production", action="store_true", help="terminate TLS (and send HSTS)"
    )
    render_cmd.add_argument("--tls-listen", default="8443")
    render_cmd.add_argument("--server-name", default="_")
    render_cmd.add_argument("--tls-certificate", type=Path, default=Path("/etc/nexus/tls/tls.crt"))
    render_cmd.add_argument("--tls-key", type=Path, default=Path("/etc/nexus/tls/tls.key"))
    render_cmd.add_argument(
        "--no-check", action="store_true", help="do not look for the Debian files here"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    tls = (
        Tls(args.tls_certificate, args.tls_key, args.tls_listen, args.server_name)
        if args.production
        else None
    )
    config = GatewayConfig(
        listen=args.listen,
        upstream=args.upstream,
        body_limit=args.body_limit,
        media_limit=args.media_limit,
        state_dir=args.out.resolve(),
        logs_dir=(args.logs or args.out / "logs").resolve(),
        config_dir=args.config_dir.resolve(),
        worker_processes=args.workers,
        tls=tls,
    )
    try:
        path = render(config, check=not args.no_check)
    except GatewayError as exc:
        print(f"nexus.gateway: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
