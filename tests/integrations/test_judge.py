"""The optional brand-safety judge against an OpenAI-compatible contract server
(tests/integrations/openai_compatible.py): a verdict in the strict JSON schema; busy, failing
and rate-limited answers retried, then given up; a wrong key or model, or a judge too slow, is
no verdict; and the embedder asks it only about borderline texts, keeping its own call when
the judge cannot answer."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr, ValidationError

from activities.checks.brand_safety import definition
from activities.moderation.models import TextEmbedder
from integrations.judge import SCHEMA, Judge
from nexus.settings import JudgeSettings, ModerationSettings
from tests.integrations.openai_compatible import API_KEY, MODEL, ChatServer, running_chat_server
from tests.support import free_port

DRUGS = "illegal_drugs_tobacco_ecigs_vaping_alcohol"


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with running_chat_server() as server:
        yield server


def settings_for(chat: ChatServer, **extra: object) -> JudgeSettings:
    return JudgeSettings.model_validate(
        {"url": chat.url, "model": MODEL, "api_key": SecretStr(API_KEY), **extra}
    )


def test_a_verdict_comes_back_in_the_schema_and_is_remembered(chat: ChatServer) -> None:
    chat.flagged = ("pills",)
    judge = Judge(settings_for(chat))
    verdict = judge.classify("selling pills, no prescription", DRUGS, definition(DRUGS))
    assert verdict is not None and verdict.in_category
    [sent] = chat.requests
    assert sent["response_format"]["json_schema"] == {
        "name": "brand_safety_verdict", "strict": True, "schema": SCHEMA,
    }  # fmt: skip
    assert sent["temperature"] == 0 and sent["messages"][0]["role"] == "system"
    assert "illegal drugs" in sent["messages"][1]["content"]
    # Asked again about the same text: answered from memory.
    assert judge.classify("selling pills, no prescription", DRUGS, "") == verdict
    assert len(chat.requests) == 1
    cleared = judge.classify("my morning coffee", DRUGS, definition(DRUGS))
    assert cleared is not None and not cleared.in_category


def test_failing_and_rate_limited_answers_are_retried_then_given_up(chat: ChatServer) -> None:
    judge = Judge(settings_for(chat, attempts=3))
    chat.fail_next = 2
    assert judge.classify("one", DRUGS, "") is not None
    assert len(chat.requests) == 3
    chat.fail_next = 3
    assert judge.classify("two", DRUGS, "") is None
    # Past the rate limit: Retry-After (1 s) is honoured between attempts, then no verdict.
    chat.limit = len(chat.requests)
    began = time.monotonic()
    assert judge.classify("three", DRUGS, "") is None
    assert 2 <= time.monotonic() - began < 6


@pytest.mark.parametrize("wrong", ["key", "model"])
def test_a_wrong_key_or_model_is_no_verdict_at_once(chat: ChatServer, wrong: str) -> None:
    extra: dict[str, object] = (
        {"api_key": SecretStr("sk-wrong")} if wrong == "key" else {"model": "no-such-model"}
    )
    judge = Judge(settings_for(chat, attempts=5, **extra))
    began = time.monotonic()
    assert judge.classify("anything", DRUGS, "") is None
    assert time.monotonic() - began < 1  # a refusal is not retried


def test_a_judge_slower_than_its_timeout_is_no_verdict(chat: ChatServer) -> None:
    chat.delay_s = 3
    judge = Judge(settings_for(chat, timeout_s=0.5, attempts=1))
    began = time.monotonic()
    assert judge.classify("anything", DRUGS, "") is None
    assert time.monotonic() - began < 2


def test_the_embedder_asks_the_judge_only_where_the_call_is_close(chat: ChatServer) -> None:
    risky = "these panties are completely see through lol"
    benign = "I killed it at the gym this morning"
    alone = TextEmbedder(ModerationSettings(), "cpu")
    assert [c for _, c, _ in alone.garm_matches([risky, benign])] == ["adult_explicit"]

    # Every call made close (band 1): the judge decides both ways.
    chat.flagged = ("gym",)
    judged = TextEmbedder(ModerationSettings(judge=settings_for(chat, band=1.0)), "cpu")
    found = judged.garm_matches([risky, benign])
    assert [i for i, _, _ in found] == [1]
    assert len(chat.requests) == 2

    # A judge that cannot be reached leaves the embedder's own calls.
    gone = settings_for(chat, band=1.0, attempts=1).model_copy(
        update={"url": f"http://127.0.0.1:{free_port()}/v1"}
    )
    unreachable = TextEmbedder(ModerationSettings(judge=gone), "cpu")
    assert [c for _, c, _ in unreachable.garm_matches([risky, benign])] == ["adult_explicit"]

    # With the default band only borderline texts are sent: a plain one is not.
    chat.requests.clear()
    narrow = TextEmbedder(ModerationSettings(judge=settings_for(chat)), "cpu")
    narrow.garm_matches(["good morning, here is my skincare routine"])
    assert chat.requests == []


def test_a_judge_without_its_model_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError, match="NEXUS_MODERATION__JUDGE__MODEL"):
        JudgeSettings(url="http://127.0.0.1:11434/v1")
