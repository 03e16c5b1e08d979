"""What a password must be: at least 12 characters, at most 1024, not a common password (nor
one with digits or symbols added, nor one repeated), and not the account's e-mail address.
Sign-up, password change and password reset all ask `password_problem`; its answer is a
sentence for the person choosing the password.

The list of common passwords ships beside this module (common_passwords.txt, its source named
in its header) and is read once, on first use.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 1024

_LIST = Path(__file__).with_name("common_passwords.txt")
# What is stripped from both ends to find the word a password is built on ("Sunshine2024!").
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")

TOO_SHORT = f"Use at least {MIN_LENGTH} characters."
TOO_LONG = f"Use at most {MAX_LENGTH} characters."
COMMON = "This is a commonly used password, which is guessed first: choose another."
COMMON_PADDED = (
    "This is a commonly used password with digits or symbols added, which is guessed early: "
    "choose another."
)
ONE_CHARACTER = "This repeats one character: choose a password that is harder to guess."
LIKE_EMAIL = "This is too close to your e-mail address: choose another."


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lowercased."""
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.lower() for line in lines if line and not line.startswith("# "))


def _repeats_a_common(text: str, common: frozenset[str]) -> bool:
    """ "qwertyqwerty", "abcabcabcabc": one common password written out several times."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size] in common or size == 1
    return False


def password_problem(password: str, email: str = "") -> str | None:
    """Why `password` may not be chosen (for the account with `email`), or None when it may."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    lowered = password.lower()
    if len(set(lowered)) == 1:
        return ONE_CHARACTER
    common = common_passwords()
    if lowered in common or _repeats_a_common(lowered, common):
        return COMMON
    core = _PADDING.sub("", lowered)
    if core != lowered and (core in common or _repeats_a_common(core, common)):
        return COMMON_PADDED
    address = email.strip().lower()
    local = address.partition("@")[0]
    squeezed = re.sub(r"[\W_]+", "", lowered)
    if address and (
        address in lowered
        or (len(local) >= 4 and local in lowered and len(lowered) - len(local) < MIN_LENGTH // 2)
        or (len(local) >= 4 and squeezed == re.sub(r"[\W_]+", "", local))
    ):
        return LIKE_EMAIL
    return None


def strong_password(password: str, email: str = "") -> str:
    """`password` when it may be chosen; ValueError with the reason otherwise (for a
    pydantic validator)."""
    problem = password_problem(password, email)
    if problem is not None:
        raise ValueError(problem)
    return password
