"""Captions of the transcript as WebVTT and SRT."""

from __future__ import annotations

import html

from workflows.contracts.moderation import Segment


def _stamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _line(text: str) -> str:
    """A cue's words on one line: a line break in them would end the cue early (a blank
    line) or start a cue of the speaker's making (a timing line)."""
    return " ".join(text.split())


def to_webvtt(segments: list[Segment]) -> str:
    # WebVTT cue text is markup: "&", "<" and ">" (so "-->" too) are written escaped.
    cues = [
        f"{_stamp(s.start_s, '.')} --> {_stamp(s.end_s, '.')}\n{html.escape(text, quote=False)}"
        for s in segments
        if (text := _line(s.text))
    ]
    return "WEBVTT\n\n" + "\n\n".join(cues) + ("\n" if cues else "")


def to_srt(segments: list[Segment]) -> str:
    # SRT has no escapes: an arrow in the words must not read as a timing line.
    texts = [(s, text.replace("-->", "\u2192")) for s in segments if (text := _line(s.text))]
    cues = [
        f"{n}\n{_stamp(s.start_s, ',')} --> {_stamp(s.end_s, ',')}\n{text}"
        for n, (s, text) in enumerate(texts, start=1)
    ]
    return "\n\n".join(cues) + ("\n" if cues else "")
