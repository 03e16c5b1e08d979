"""The optional brand-safety judge: a chat model behind an OpenAI-compatible API (vLLM, Ollama,
a hosted model), asked whether a text falls in one GARM category, for the calls the embedder
cannot make with confidence (activities/moderation/models.py).

The request is OpenAI's chat completions (`POST {url}/chat/completions`, a bearer key when one
is configured) with `response_format` a strict JSON schema, so the answer is
`{"in_category": bool, "reason": str}` and nothing else. Transport errors, 408, 409, 429 and 5xx
answers are retried (tenacity, exponential back-off, a `Retry-After` of a few seconds
honoured) up to the configured attempts; anything else, or a malformed answer, is no verdict:
the deterministic path then decides, so a judge that is down or wrong never stops a check."""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict

import httpx
from pydantic import BaseModel, Field, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from nexus.settings import JudgeSettings

log = logging.getLogger(__name__)

SYSTEM = (
    "You review social media posts for brand safety, using the GARM Brand Safety Floor and "
    "Suitability Framework. Given one category and one text, answer whether the text itself "
    "falls in that category. Figures of speech ('killed it at the gym'), denials ('alcohol-"
    "free') and products named only as absent do not. Answer with the JSON schema only."
)
SCHEMA = {
    "type": "object",
    "properties": {
        "in_category": {"type": "boolean"},
        "reason": {"type": "string"},
    },
    "required": ["in_category", "reason"],
    "additionalProperties": False,
}
_RETRIED = {408, 409, 429, 500, 502, 503, 504}
# Longer waits than this are not worth holding a check for: no verdict instead.
_MAX_RETRY_AFTER_S = 5.0


class Verdict(BaseModel):
    in_category: bool
    reason: str = Field(default="", max_length=2000)


class _Transient(Exception):
    """An answer worth asking again for (busy, rate-limited, failing for now)."""

    def __init__(self, status: int, retry_after_s: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.retry_after_s = retry_after_s


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


def _wait(state: RetryCallState) -> float:
    """Exponential back-off, or the server's Retry-After when it names one."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, _Transient) and error.retry_after_s is not None:
        return min(error.retry_after_s, _MAX_RETRY_AFTER_S)
    return float(wait_exponential(multiplier=0.2, max=2)(state))


def _transient(error: BaseException) -> bool:
    return isinstance(error, _Transient | httpx.TransportError)


class Judge:
    """One endpoint and model; verdicts remembered per (category, text), since a resubmitted
    draft repeats its sentences."""

    REMEMBERED = 2048

    def __init__(self, settings: JudgeSettings, transport: httpx.BaseTransport | None = None):
        assert settings.url, "a judge needs its endpoint"
        headers = {"Content-Type": "application/json"}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self._settings = settings
        self._http = httpx.Client(
            base_url=settings.url.rstrip("/") + "/",
            headers=headers,
            timeout=settings.timeout_s,
            transport=transport,
        )
        self._lock = threading.Lock()
        self._known: OrderedDict[tuple[str, str], Verdict] = OrderedDict()

    def classify(self, text: str, category: str, definition: str) -> Verdict | None:
        """Whether `text` falls in `category` (described by `definition`); None when the judge
        could not say."""
        key = (category, text)
        with self._lock:
            if key in self._known:
                return self._known[key]
        retrying = Retrying(
            stop=stop_after_attempt(self._settings.attempts),
            wait=_wait,
            retry=retry_if_exception(_transient),
            reraise=True,
        )
        try:
            verdict = retrying(self._ask, text, category, definition)
        except (_Transient, httpx.HTTPError, ValueError) as exc:
            log.warning("brand-safety judge gave no verdict for %s: %s", category, exc)
            return None
        with self._lock:
            self._known[key] = verdict
            while len(self._known) > self.REMEMBERED:
                self._known.popitem(last=False)
        return verdict

    def _ask(self, text: str, category: str, definition: str) -> Verdict:
        body = {
            "model": self._settings.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {
                    "role": "user",
                    "content": f"Category: {category}: {definition}\n\nText: {text}",
                },
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "brand_safety_verdict", "strict": True, "schema": SCHEMA},
            },
        }
        response = self._http.post("chat/completions", json=body)
        if response.status_code in _RETRIED:
            raise _Transient(response.status_code, _retry_after(response))
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
            return Verdict.model_validate(json.loads(content))
        except (KeyError, IndexError, TypeError, ValueError, ValidationError) as exc:
            raise ValueError(f"not a verdict: {exc}") from exc

    def close(self) -> None:
        self._http.close()


def judge_from_settings(settings: JudgeSettings) -> Judge | None:
    return Judge(settings) if settings.url else None
