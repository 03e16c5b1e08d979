"""Caption rules: FTC disclosure wording and placement, and the brief's mandatory mentions.

Follows the FTC's "Disclosures 101 for Social Media Influencers": the disclosure must be hard
to miss (in the first lines, before a "more" cut, not lost among other hashtags) and use clear
words ("ad", "sponsored", "paid partnership"); "sp", "spon", "collab", "thanks" or
"ambassador" alone are not enough. It must also be in the language of the post: a Spanish
caption needs "publicidad" or "patrocinado", not only "#ad".
"""

from __future__ import annotations

import re

from domain.findings import Finding

# Platforms cut captions after about this many characters behind a "more" link.
MORE_CUT = 125

_CLEAR = re.compile(
    r"(#ad\b|#advert(isement)?\b|#sponsored\b|#paidpartnership\b|\bpaid partnership\b"
    r"|\bsponsored\b|\badvertisement\b|^ad\b|\bad:|\bthanks to [\w .&'-]+ for the free product\b"
    r"|\b(?!(?:a|an|the|my|proud|brand|official)\b)[\w&'-]+ (partner|ambassador)\b)",
    re.IGNORECASE | re.MULTILINE,
)
_VAGUE = re.compile(
    r"(#(sp|spon|collab|thanks|ambassador)\b|\b(spon|collab)\b|^thanks\b"
    r"|\b(?:a|an|proud|brand) ambassador\b)",
    re.IGNORECASE | re.MULTILINE,
)

# Clear disclosures in the other languages creators post in most, and the small words that
# tell those languages apart.
_LOCAL_CLEAR = {
    "es": r"#?publicidad\b|#?patrocinado\b|#?anuncio\b|colaboración pagada",
    "fr": r"#?publicité\b|#?sponsorisé\b|partenariat rémunéré|#?pub\b",
    "de": r"#?werbung\b|#?anzeige\b|bezahlte partnerschaft",
    "pt": r"#?publicidade\b|#?patrocinado\b|parceria paga|#?publi\b",
    "it": r"#?pubblicità\b|#?sponsorizzato\b|partnership retribuita",
}
_LOCAL_EXAMPLE = {
    "es": "#publicidad", "fr": "#publicité", "de": "#werbung", "pt": "#publicidade",
    "it": "#pubblicità",
}  # fmt: skip
_STOPWORDS = {
    "en": {"the", "and", "my", "is", "with", "this", "for", "you", "to", "of", "it", "in"},
    "es": {"el", "la", "los", "las", "y", "mi", "con", "es", "para", "que", "por", "una"},
    "fr": {"le", "la", "les", "et", "mon", "ma", "avec", "est", "pour", "que", "une", "des"},
    "de": {"der", "die", "das", "und", "mein", "meine", "mit", "ist", "für", "ich", "ein"},
    "pt": {"o", "os", "as", "e", "meu", "minha", "com", "é", "para", "que", "uma", "não"},
    "it": {"il", "lo", "gli", "e", "mio", "mia", "con", "è", "per", "che", "una", "di"},
}
_TRAILING_TAGS = re.compile(r"(?:\s*#\w+){3,}\s*$")


def check_caption(
    caption: str, *, disclosure_required: bool, mandatory_mentions: list[str]
) -> list[Finding]:
    findings: list[Finding] = []
    if disclosure_required:
        findings.extend(_disclosure(caption))
    lowered = caption.casefold()
    for mention in mandatory_mentions:
        if mention.casefold() not in lowered:
            findings.append(
                Finding(
                    code="mandatory_mention_missing",
                    severity="block",
                    message=f'The brief asks you to mention "{mention}" in the caption.',
                )
            )
    return findings


def caption_language(caption: str) -> str:
    """The caption's language among those with local disclosure wording; English unless
    another one clearly dominates its small words."""
    words = re.findall(r"[^\W\d_]+", caption.casefold())
    hits = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    best = max(hits, key=lambda lang: hits[lang])
    return best if best != "en" and hits[best] >= 3 and hits[best] > hits["en"] else "en"


def _disclosure(caption: str) -> list[Finding]:
    language = caption_language(caption)
    if language != "en":
        return _local_disclosure(caption, language)
    return _english_disclosure(caption)


def _local_disclosure(caption: str, language: str) -> list[Finding]:
    local = re.search(_LOCAL_CLEAR[language], caption, re.IGNORECASE)
    if local is None:
        english = _CLEAR.search(caption)
        example = _LOCAL_EXAMPLE[language]
        return [
            Finding(
                code="disclosure_wrong_language",
                severity="block",
                message=f'Add "{example}" at the start: the disclosure must be in the '
                "language of the post, and an English one is not enough.",
                span=english.span() if english else None,
            )
        ]
    if local.start() >= MORE_CUT:
        return [
            Finding(
                code="disclosure_below_fold",
                severity="block",
                message=f"The disclosure starts at character {local.start() + 1}, after the "
                f'"more" cut ({MORE_CUT}); move it to the beginning.',
                span=local.span(),
            )
        ]
    return []


def _english_disclosure(caption: str) -> list[Finding]:
    clear = list(_CLEAR.finditer(caption))
    if not clear:
        vague = _VAGUE.search(caption)
        if vague:
            return [
                Finding(
                    code="disclosure_insufficient",
                    severity="block",
                    message=f'"{vague.group(0)}" is not a clear disclosure: use "#ad", '
                    '"#sponsored" or "Paid partnership with <brand>".',
                    span=vague.span(),
                )
            ]
        return [
            Finding(
                code="disclosure_missing",
                severity="block",
                message='Add a clear disclosure such as "#ad" or "Paid partnership with '
                '<brand>" at the start of the caption.',
            )
        ]
    first = clear[0]
    if first.start() >= MORE_CUT:
        return [
            Finding(
                code="disclosure_below_fold",
                severity="block",
                message=f"The disclosure starts at character {first.start() + 1}, after the "
                f'"more" cut ({MORE_CUT}); move it to the beginning.',
                span=first.span(),
            )
        ]
    trailing = _TRAILING_TAGS.search(caption)
    if trailing and all(m.start() >= trailing.start() for m in clear) and trailing.start() > 0:
        return [
            Finding(
                code="disclosure_buried",
                severity="block",
                message="The disclosure is buried among hashtags at the end; put it on its "
                "own at the beginning.",
                span=first.span(),
            )
        ]
    return []
