"""A ThreatExchange contract server for the tests, written from Meta's public Graph API
reference for `/{privacy_group}/threat_updates`: the access token is required and must be the
configured `APP_ID|SECRET` (else 400 with an OAuthException, code 190), the privacy group must
be one it holds (else 400, code 100), `types` must name known indicator types, and the updates
come in pages of `limit` with a `paging.next` URL carrying an `after` cursor."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

VERSION = "v18.0"
KNOWN_TYPES = frozenset({"HASH_PDQ", "HASH_MD5", "HASH_TMK", "URI", "DOMAIN"})


def _error(message: str, code: int, kind: str = "OAuthException") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "sandbox"}}


class ThreatExchangeSandbox:
    def __init__(self, token: str, groups: dict[str, list[dict[str, Any]]]) -> None:
        self.token = token
        self.groups = groups
        self.requests: list[dict[str, list[str]]] = []

    def answer(self, path: str, query: dict[str, list[str]], base: str) -> tuple[int, Any]:
        self.requests.append(query)
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != VERSION or parts[2] != "threat_updates":
            return 400, _error("Unknown path components", 2500)
        token = query.get("access_token", [""])[0]
        if not token:
            return 400, _error("An access token is required to request this resource.", 104)
        if token != self.token:
            return 400, _error("Invalid OAuth access token - Cannot parse access token", 190)
        group = parts[1]
        if group not in self.groups:
            return 400, _error(
                f"Unsupported get request. Object with ID '{group}' does not exist",
                100,
                "GraphMethodException",
            )
        wanted = [t for t in query.get("types", [""])[0].split(",") if t]
        if any(t not in KNOWN_TYPES for t in wanted):
            return 400, _error("(#100) Param types must be one of known types", 100)
        try:
            limit = int(query.get("limit", ["100"])[0])
            start = int(query.get("after", ["0"])[0])
        except ValueError:
            return 400, _error("(#100) Param limit must be a number", 100)
        rows = [r for r in self.groups[group] if not wanted or r["type"] in wanted]
        page = rows[start : start + limit]
        body: dict[str, Any] = {"data": page, "paging": {"cursors": {"after": str(start)}}}
        if start + limit < len(rows):
            after = {**{k: v[0] for k, v in query.items()}, "after": str(start + limit)}
            body["paging"]["next"] = f"{base}{path}?{urlencode(after)}"
        return 200, body


@contextmanager
def serve(sandbox: ThreatExchangeSandbox) -> Iterator[str]:
    """The sandbox on a free local port; yields the base URL a client is configured with."""

    server: ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            base = f"http://127.0.0.1:{server.server_port}"
            status, body = sandbox.answer(url.path, parse_qs(url.query), base)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{VERSION}"
    finally:
        server.shutdown()
        server.server_close()
