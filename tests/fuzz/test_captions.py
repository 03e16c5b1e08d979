"""Fuzzing the caption rules, the spoken-disclosure check on transcripts and the subtitle
writers with hypothesis: whatever a creator types or says, the checks answer with findings
that point into what was checked, a clear disclosure at the start always passes, and the
captions a player reads back are the words that were said, cue for cue."""

from __future__ import annotations

import html
import math
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from activities.checks.spoken import check_spoken_disclosure
from activities.checks.subtitles import to_srt, to_webvtt
from domain.disclosure import MORE_CUT, caption_language, check_caption
from workflows.contracts.moderation import ScreenText, Segment, Word

# Bounded and reproducible: the whole fuzz package runs in under two minutes.
FUZZ = settings(max_examples=150, deadline=None, derandomize=True)

# Words the rules look for (clear, vague, other languages' disclosures and small words),
# mixed with anything unicode has: the rules' branches are reached, not only their defaults.
_WORDS = [
    "#ad", "ad", "ad:", "#sponsored", "sponsored", "sponsor", "paid", "partnership",
    "promotion", "partnered", "with", "in", "#sp", "#spon", "spon", "collab", "#collab",
    "thanks", "to", "for", "the", "free", "product", "ambassador", "partner", "brand", "a",
    "proud", "Glow", "#publicidad", "publicidad", "#werbung", "#pub", "el", "la", "y", "con",
    "le", "et", "der", "und", "mit", "è", "#tag", "#a", "#b", "#c", "\n", "  ", "-", "&", "<",
    "-->", "🙂", "ÉTÉ", "ß",
]  # fmt: skip
_word = st.sampled_from(_WORDS) | st.text(min_size=1, max_size=12)
captions = st.lists(_word, max_size=60).map(" ".join) | st.text(max_size=2200)
CODES = {
    "disclosure_missing", "disclosure_insufficient", "disclosure_below_fold",
    "disclosure_buried", "disclosure_wrong_language", "mandatory_mention_missing",
    "disclosure_denied", "disclosure_lookalike",
}  # fmt: skip


@FUZZ
@given(caption=captions, mentions=st.lists(_word, max_size=3))
def test_caption_findings_point_into_the_caption(caption: str, mentions: list[str]) -> None:
    findings = check_caption(caption, disclosure_required=True, mandatory_mentions=mentions)
    for finding in findings:
        assert finding.code in CODES
        assert finding.severity == "block"
        assert finding.message
        if finding.span is not None:
            start, end = finding.span
            assert 0 <= start < end <= len(caption)
        if finding.code == "disclosure_below_fold":
            assert finding.span is not None
            assert finding.span[0] >= MORE_CUT
            assert f"character {finding.span[0] + 1}," in finding.message
    missing = [f for f in findings if f.code == "mandatory_mention_missing"]
    absent = [m for m in mentions if m.casefold() not in caption.casefold()]
    assert len(missing) == len(absent)
    assert check_caption(caption, disclosure_required=False, mandatory_mentions=[]) == []


@FUZZ
@given(caption=captions)
def test_a_clear_disclosure_at_the_start_always_passes(caption: str) -> None:
    for prefix in ("#ad ", "Paid partnership with Glow. "):
        disclosed = prefix + caption
        if caption_language(disclosed) == "en":
            found = check_caption(disclosed, disclosure_required=True, mandatory_mentions=[])
            # Only a denial later in the caption ("not sponsored") still counts against it.
            assert {f.code for f in found} <= {"disclosure_denied"}
    spanish = "#publicidad " + caption
    if caption_language(spanish) == "es":
        found = check_caption(spanish, disclosure_required=True, mandatory_mentions=[])
        assert {f.code for f in found} <= {"disclosure_denied"}


def _timed(texts: list[str], gaps: list[float]) -> list[Word]:
    words, at = [], 0.0
    for text, gap in zip(texts, gaps, strict=False):
        words.append(Word(text=text, start_s=at + gap, end_s=at + gap + 0.3))
        at += gap + 0.3
    return words


transcripts = st.builds(
    _timed,
    st.lists(_word, max_size=40),
    st.lists(st.floats(min_value=0, max_value=5), min_size=40, max_size=40),
)
brands = st.sampled_from(["Glow", "Glow Serum", "L'Oréal Paris", "H&M"]) | st.text(max_size=20)
frames = st.lists(
    st.builds(ScreenText, time_s=st.floats(min_value=0, max_value=60), text=captions),
    max_size=4,
)


@FUZZ
@given(words=transcripts, brand=brands, shown=frames, within=st.floats(min_value=1, max_value=30))
def test_spoken_findings_are_one_and_inside_the_video(
    words: list[Word], brand: str, shown: list[ScreenText], within: float
) -> None:
    findings = check_spoken_disclosure(words, brand=brand, within_s=within, shown=shown)
    assert len(findings) <= 1
    for finding in findings:
        assert finding.check == "ftc_disclosure"
        assert finding.message
        assert finding.start_s is not None and finding.end_s is not None
        assert 0 <= finding.start_s <= finding.end_s
        assert math.isfinite(finding.end_s)


@FUZZ
@given(words=transcripts, brand=brands, at=st.integers(min_value=0, max_value=40))
def test_saying_sponsored_early_always_passes(words: list[Word], brand: str, at: int) -> None:
    early = Word(text="Sponsored!", start_s=0.5, end_s=0.9)
    said = [*words[:at], early, *words[at:]]
    said.sort(key=lambda w: w.start_s)
    index = said.index(early)
    before = {w.text.casefold().strip(".,!?") for w in said[max(0, index - 3) : index]}
    if before & {"not", "no", "never", "isn't", "wasn't", "aren't", "without", "non", "nobody"}:
        return  # "not sponsored" is a denial, not a disclosure
    assert check_spoken_disclosure(said, brand=brand, within_s=15) == []


@FUZZ
@given(words=transcripts, brand=st.text(alphabet="!?.-_&*#@ ", max_size=6))
def test_a_brand_without_letters_makes_no_word_a_disclosure(words: list[Word], brand: str) -> None:
    # "- partner" said in a video of the brand "***" is no "<brand> partner".
    said = [
        *words,
        Word(text="-", start_s=90, end_s=90.2),
        Word(text="partner", start_s=90.3, end_s=91),
    ]
    shown = [ScreenText(time_s=1, text="- partner")]
    found = check_spoken_disclosure(said, brand=brand, within_s=15, shown=shown)
    assert [f.code for f in found] == [
        f.code for f in check_spoken_disclosure(said, brand="", within_s=15, shown=shown)
    ]


segments = st.lists(
    st.builds(
        lambda text, start, length: Segment(text=text, start_s=start, end_s=start + length),
        captions,
        st.floats(min_value=0, max_value=36_000),
        st.floats(min_value=0, max_value=60),
    ),
    max_size=8,
)
_STAMP = r"(\d{2,}):(\d{2}):(\d{2})[.,](\d{3})"
_TIMING = re.compile(rf"^{_STAMP} --> {_STAMP}$")


def _said(segment: Segment) -> str:
    """A cue's words as a player shows them: on one line, white space collapsed."""
    return " ".join(segment.text.split())


def _seconds(groups: tuple[str, ...]) -> float:
    hours, minutes, secs, millis = (int(g) for g in groups)
    return hours * 3600 + minutes * 60 + secs + millis / 1000


def _cues(blocks: list[str]) -> list[tuple[float, float, str]]:
    cues = []
    for block in blocks:
        timing, *text = block.split("\n")
        match = _TIMING.match(timing)
        assert match is not None, block
        start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
        assert 0 <= start <= end
        cues.append((start, end, "\n".join(text)))
    return cues


@FUZZ
@given(segments=segments)
def test_webvtt_reads_back_as_the_words_said(segments: list[Segment]) -> None:
    vtt = to_webvtt(segments)
    header, _, body = vtt.partition("\n\n")
    assert header == "WEBVTT"
    # WebVTT: cues are separated by blank lines, and "-->" or a raw "<" or "&" inside a
    # cue's text would start a new timing line or markup.
    blocks = [b for b in body.rstrip("\n").split("\n\n") if b]
    cues = _cues(blocks)
    expected = [s for s in segments if _said(s)]
    assert [html.unescape(text) for *_, text in cues] == [_said(s) for s in expected]
    for *_, text in cues:
        assert "-->" not in text and "<" not in text
        assert "&" not in text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")


@FUZZ
@given(segments=segments)
def test_srt_reads_back_as_the_words_said(segments: list[Segment]) -> None:
    srt = to_srt(segments)
    blocks = [b for b in srt.rstrip("\n").split("\n\n") if b]
    numbers = [b.split("\n", 1)[0] for b in blocks]
    assert numbers == [str(n) for n in range(1, len(blocks) + 1)]
    cues = _cues([b.split("\n", 1)[1] for b in blocks])
    expected = [s for s in segments if _said(s)]
    assert [text for *_, text in cues] == [_said(s).replace("-->", "\u2192") for s in expected]
