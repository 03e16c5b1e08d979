"""Brand-safety similarity with the real all-MiniLM-L6-v2 model that ships in a package."""

from __future__ import annotations

from typing import Any

import pytest

import activities.moderation.models as models
from activities.moderation.activities import sentences
from activities.moderation.models import TextEmbedder
from nexus.settings import ModerationSettings
from workflows.contracts.moderation import Word


@pytest.fixture(scope="module")
def embedder() -> TextEmbedder:
    return TextEmbedder(ModerationSettings(), "cpu")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("after this we went to the range and fired a few rounds", "arms_ammunition"),
        ("I took some pills and got so high", "illegal_drugs_tobacco_ecigs_vaping_alcohol"),
        ("this serum literally cured my eczema and my diabetes", "misinformation"),
        ("those people should all be deported, they are animals", "hate_speech_aggression"),
        ("download the movie free on my torrent site", "online_piracy"),
    ],
)
def test_other_words_for_a_category_are_caught(
    embedder: TextEmbedder, text: str, category: str
) -> None:
    [(index, found, score)] = embedder.garm_matches([text])
    assert (index, found) == (0, category)
    assert score >= ModerationSettings().garm_similarity


def test_everyday_creator_speech_is_not_flagged(embedder: TextEmbedder) -> None:
    ordinary = [
        "this video is sponsored by Glow serum",
        "here is my morning routine with Glow serum 30 ml",
        "we shot a great video at the beach",
        "this product is the bomb",
        "use my code to get ten percent off",
        "drinking water every morning keeps me hydrated",
    ]
    assert embedder.garm_matches(ordinary) == []
    assert embedder.garm_matches([]) == []


def test_texts_seen_before_are_not_embedded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = TextEmbedder(ModerationSettings(), "cpu")
    encoded: list[list[str]] = []
    model, prototypes, categories = models._sentence_model(embedder._path, "cpu")

    class Counting:
        def encode(self, texts: list[str], **options: Any) -> Any:
            encoded.append(list(texts))
            return model.encode(texts, **options)

    monkeypatch.setattr(models, "_sentence_model", lambda *_: (Counting(), prototypes, categories))
    texts = ["I took some pills and got so high", "here is my morning routine"]
    first = embedder.garm_matches(texts)
    drugs = "illegal_drugs_tobacco_ecigs_vaping_alcohol"
    assert [(i, c) for i, c, _ in first] == [(0, drugs)]
    # The same sentence again, beside a new one: only the new one is embedded.
    again = embedder.garm_matches(["we went to the range and fired a few rounds", texts[0]])
    assert [(i, c) for i, c, _ in again] == [(0, "arms_ammunition"), (1, drugs)]
    assert again[1][2] == first[0][2]
    # What is embedded is the text as read (normalised, see activities/checks/brand_safety.py).
    assert encoded == [[t.lower() for t in texts], ["we went to the range and fired a few rounds"]]


def test_speech_is_split_into_sentences_at_end_punctuation_and_pauses() -> None:
    said = [
        Word(text="Sponsored", start_s=0.0, end_s=0.4),
        Word(text="by", start_s=0.4, end_s=0.5),
        Word(text="Glow.", start_s=0.5, end_s=0.9),
        Word(text="I", start_s=1.0, end_s=1.1),
        Word(text="got", start_s=1.1, end_s=1.3),
        Word(text="high", start_s=1.3, end_s=1.6),
        Word(text="later", start_s=4.0, end_s=4.4),
    ]
    assert [(s.text, s.start_s, s.end_s) for s in sentences(said)] == [
        ("Sponsored by Glow.", 0.0, 0.9),
        ("I got high", 1.0, 1.6),
        ("later", 4.0, 4.4),
    ]
    assert sentences([]) == []
