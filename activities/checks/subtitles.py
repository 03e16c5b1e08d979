"""Captions of the transcript as WebVTT and SRT."""

from __future__ import annotations

from workflows.contracts.moderation import Segment


def _stamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_webvtt(segments: list[Segment]) -> str:
    cues = [
        f"{_stamp(s.start_s, '.')} --> {_stamp(s.end_s, '.')}\n{s.text}" for s in segments if s.text
    ]
    return "WEBVTT\n\n" + "\n\n".join(cues) + ("\n" if cues else "")


def to_srt(segments: list[Segment]) -> str:
    cues = [
        f"{n}\n{_stamp(s.start_s, ',')} --> {_stamp(s.end_s, ',')}\n{s.text}"
        for n, s in enumerate((s for s in segments if s.text), start=1)
    ]
    return "\n\n".join(cues) + ("\n" if cues else "")
