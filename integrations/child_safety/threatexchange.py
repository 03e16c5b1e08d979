"""Meta's ThreatExchange (Graph API): a privacy group's PDQ and MD5 hashes.

`GET /{version}/{privacy_group}/threat_updates?access_token=APP_ID|SECRET&types=HASH_PDQ,...`
answers `{"data": [{"id", "indicator", "type", "last_updated", "should_delete", "tags"}],
"paging": {"cursors": {"after"}, "next"}}`; pages are followed until there is no `next`, and an
indicator marked `should_delete` in a later update leaves the set. A refused token or request
answers `{"error": {"message", "type", "code"}}` (code 190: the token), raised as
HashSourceError with Meta's message. The sandbox (integrations/child_safety/sandbox.py)
answers the same way for the tests."""

from __future__ import annotations

from typing import Any

import httpx

from integrations.child_safety import HashSet, HashSourceError

DEFAULT_BASE_URL = "https://graph.facebook.com/v18.0"
_TYPES = {"HASH_PDQ": "pdq", "HASH_MD5": "md5"}


class ThreatExchangeSource:
    def __init__(
        self,
        *,
        privacy_group: str,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 30.0,
        page_size: int = 500,
        max_pages: int = 10_000,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not privacy_group.isdigit():
            raise HashSourceError("ThreatExchange: the privacy group is its numeric id")
        if "|" not in access_token:
            raise HashSourceError("ThreatExchange: the access token is APP_ID|APP_SECRET")
        self.name = f"threatexchange-{privacy_group}"
        self._group = privacy_group
        self._token = access_token
        self._base = base_url.rstrip("/")
        self._timeout = timeout_s
        self._page_size = page_size
        self._max_pages = max_pages
        self._transport = transport

    def fetch(self) -> HashSet:
        found: dict[str, tuple[str, str]] = {}  # indicator -> (kind, label)
        url: str | None = f"{self._base}/{self._group}/threat_updates"
        params: dict[str, Any] | None = {
            "access_token": self._token,
            "types": ",".join(_TYPES),
            "limit": self._page_size,
            "fields": "id,indicator,type,last_updated,should_delete,tags",
        }
        with httpx.Client(timeout=self._timeout, transport=self._transport) as http:
            for _ in range(self._max_pages):
                if url is None:
                    break
                page = self._get(http, url, params)
                for item in page.get("data", []):
                    self._apply(found, item)
                url = page.get("paging", {}).get("next")
                params = None  # the next URL carries the token and cursor itself
            else:
                raise HashSourceError(f"{self.name}: more than {self._max_pages} pages")
        pdq = tuple(sorted(i for i, (kind, _) in found.items() if kind == "pdq"))
        md5 = tuple(sorted(i for i, (kind, _) in found.items() if kind == "md5"))
        labels = {i: label for i, (_, label) in found.items() if label}
        return HashSet(name=self.name, pdq=pdq, md5=md5, labels=labels)

    def _get(self, http: httpx.Client, url: str, params: dict[str, Any] | None) -> Any:
        try:
            response = http.get(url, params=params)
        except httpx.HTTPError as exc:
            raise HashSourceError(f"{self.name}: ThreatExchange unreachable ({exc})") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", {}) if isinstance(body, dict) else {}
            message = error.get("message") or f"HTTP {response.status_code}"
            raise HashSourceError(f"{self.name}: ThreatExchange refused: {message}")
        return body

    @staticmethod
    def _apply(found: dict[str, tuple[str, str]], item: Any) -> None:
        kind = _TYPES.get(str(item.get("type", "")))
        indicator = str(item.get("indicator", "")).strip().lower()
        if kind is None or not indicator:
            return
        if item.get("should_delete"):
            found.pop(indicator, None)
            return
        tags = item.get("tags") or []
        found[indicator] = (kind, ";".join(str(t) for t in tags if isinstance(t, str)))
