"""Values as people read them, in one place: money with its currency's symbol, amounts as a
form holds them, days and moments, durations, file sizes, countries and platforms by name,
counts and lists. Pages, PDFs, e-mails, notifications and refusals all say it the same way.

What the platform's codes mean in words (stages, statuses, formats, channels) lives in
domain/labels.py; this module says how a value reads, not what a code means. Plain Python
without I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import pycountry

# -- money ------------------------------------------------------------------------------------

# ISO 4217 currencies whose minor unit is not a hundredth.
_DECIMALS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                     "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}  # fmt: skip
# Symbols a reader recognises without the code (and that PDFs' core fonts can print); every
# other currency shows its ISO code after the amount.
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$",
            "NZD": "NZ$", "BRL": "R$", "MXN": "MX$"}  # fmt: skip


def decimals(currency: str) -> int:
    """Digits after the decimal point in `currency`'s major unit."""
    return _DECIMALS.get(currency.upper(), 2)


def _major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-decimals(currency))


def money(amount_minor: int, currency: str) -> str:
    """Minor units as money: 125000 USD -> "$1,250.00", 123456 EUR -> "€1,234.56",
    5000 CHF -> "50.00 CHF", -500 USD -> "-$5.00"."""
    code = currency.upper()
    places = decimals(code)
    digits = f"{abs(_major(amount_minor, code)):,.{places}f}"
    sign = "-" if amount_minor < 0 else ""
    symbol = _SYMBOLS.get(code)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {code}"


def amount_input(amount_minor: int, currency: str) -> str:
    """Minor units as a person types them and spreadsheets read them: 125000 USD ->
    "1250.00" (no symbol, no thousands separator)."""
    return f"{_major(amount_minor, currency):.{decimals(currency)}f}"


def parse_amount(text: str, currency: str) -> int:
    """What a person typed ("1,250.50") in minor units of `currency`; ValueError saying why
    otherwise."""
    cleaned = text.replace(",", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError("Enter an amount like 1250 or 1250.50.") from exc
    places = decimals(currency)
    if not amount.is_finite() or amount != round(amount, places):
        raise ValueError(f"Use at most {places} decimals." if places else "Use whole amounts.")
    return int(amount.scaleb(places))


# -- days, moments and durations --------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day(moment: datetime | date | str) -> str:
    """A day as people write it: "1 March 2027" (a moment's day in UTC)."""
    at = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if isinstance(at, datetime):
        at = _utc(at)
    return f"{at.day} {at:%B %Y}"


def day_and_time(moment: datetime | str) -> str:
    """A moment in full: "1 March 2027, 14:05 UTC"."""
    at = _utc(datetime.fromisoformat(moment) if isinstance(moment, str) else moment)
    return f"{day(at)}, {at:%H:%M} UTC"


def when(moment: datetime) -> str:
    """A moment of the days ahead, short: "Tue 8 Dec, 14:00 UTC"."""
    utc = _utc(moment)
    return f"{utc:%a} {utc.day} {utc:%b}, {utc:%H:%M} UTC"


def duration_words(span: timedelta) -> str:
    """How long, roughly, as a person says it: "less than a minute", "12 min", "3 h 5 min",
    "2 days 4 h"."""
    minutes = max(int(span.total_seconds() // 60), 0)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        unit = "day" if days == 1 else "days"
        return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"
    if not hours:
        return f"{mins} min"
    return f"{hours} h {mins} min" if mins else f"{hours} h"


def since(moment: datetime, now: datetime | None = None) -> str:
    """How long something has waited: `duration_words` up to now."""
    return duration_words((now or datetime.now(UTC)) - moment)


def ago(moment: datetime, now: datetime | None = None) -> str:
    """When, in the words a person uses: "just now", "5 minutes ago", "yesterday", "3 March"."""
    now = now or datetime.now(UTC)
    seconds = (now - moment).total_seconds()
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{plural(max(1, round(seconds / 60)), 'minute')} ago"
    if seconds < 86_400:
        return f"{plural(round(seconds / 3600), 'hour')} ago"
    days = (now.date() - moment.date()).days
    if days <= 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    if moment.year == now.year:
        return f"{moment.day} {moment:%B}"
    return day(moment)


def days_words(days: int) -> str:
    """365 -> "1 year", 730 -> "2 years", 30 -> "30 days"."""
    if days >= 365 and days % 365 == 0:
        return plural(days // 365, "year")
    return plural(days, "day")


# -- sizes, counts and lists ------------------------------------------------------------------


def filesize(size: int | None) -> str:
    """ "512 bytes", "12 KB", "3.4 MB"."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def join_words(parts: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def sentences(parts: Iterable[str]) -> str:
    """Messages as one paragraph: each ends with its own full stop, none gets a second."""
    return " ".join(p if p.endswith((".", "!", "?")) else f"{p}." for p in parts if p)


def capital(text: str) -> str:
    """The first letter capitalised, the rest as it is ("vertical video" -> "Vertical video")."""
    return text[:1].upper() + text[1:]


# -- places and platforms ---------------------------------------------------------------------

WORLDWIDE = "WW"
PLATFORMS = {
    "tiktok": "TikTok", "instagram": "Instagram", "youtube": "YouTube", "facebook": "Facebook",
    "snapchat": "Snapchat", "pinterest": "Pinterest", "linkedin": "LinkedIn", "x": "X",
    "twitter": "X (Twitter)", "twitch": "Twitch", "reddit": "Reddit", "threads": "Threads",
}  # fmt: skip
# Where pycountry's name reads like a registry entry rather than what people say.
_COUNTRY_NAMES = {
    "CD": "DR Congo", "FM": "Micronesia", "PS": "Palestine", "VA": "Vatican City",
    "VG": "British Virgin Islands", "VI": "U.S. Virgin Islands", "FK": "Falkland Islands",
}  # fmt: skip


def platform_name(platform: str) -> str:
    """ "tiktok" -> "TikTok"; one without a known name reads with a capital."""
    return PLATFORMS.get(platform.strip().lower()) or capital(platform.strip())


def country_name(code: str) -> str:
    """A country by the name people say ("DE" -> "Germany"); "WW" -> "worldwide"."""
    code = code.strip().upper()
    if code == WORLDWIDE:
        return "worldwide"
    if code in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def territory_words(codes: Iterable[str]) -> str:
    """ "worldwide", or the countries by name: "Canada, Germany and the United States"."""
    found = [c.strip().upper() for c in codes if c.strip()]
    if not found or WORLDWIDE in found:
        return "worldwide"
    names = sorted(country_name(c) for c in set(found))
    return join_words([_with_article(n) for n in names])


def _with_article(name: str) -> str:
    # "the United States", "the Netherlands": the names that read with it in a sentence.
    needs = name.startswith(("United ", "Netherlands", "Philippines", "Bahamas", "Gambia")) or (
        name.endswith(("Islands", "Republic", "Emirates"))
    )
    return f"the {name}" if needs else name
