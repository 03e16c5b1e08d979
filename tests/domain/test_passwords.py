"""The password rules sign-up, change and reset share."""

from __future__ import annotations

import pytest

from domain.passwords import (
    COMMON,
    COMMON_PADDED,
    LIKE_EMAIL,
    ONE_CHARACTER,
    TOO_LONG,
    TOO_SHORT,
    common_passwords,
    password_problem,
)


def test_the_shipped_list_holds_thousands_of_common_passwords() -> None:
    common = common_passwords()
    assert len(common) > 5000
    assert {"password", "123456", "qwerty", "iloveyou", "qwertyuiop123"} <= common
    assert not any(p.startswith("# ") for p in common)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pass", TOO_SHORT),
        ("x" * 11 + "y", None),
        ("a" * 1025, TOO_LONG),
        ("aaaaaaaaaaaa", ONE_CHARACTER),
        ("qwertyuiop123", COMMON),
        ("1q2w3e4r5t6y", COMMON),
        ("PASSWORD1234", COMMON),
        ("Sunshine2024!", COMMON_PADDED),
        ("!!monkey!!12345", COMMON_PADDED),
        ("qwertyqwerty", COMMON),
        ("dragon-dragon-", None),
        ("correct horse battery staple", None),
        ("tram-violet-ledger", None),
    ],
)
def test_length_and_common_passwords(password: str, problem: str | None) -> None:
    assert password_problem(password, "someone@example.com") == problem


def test_the_e_mail_address_is_no_password() -> None:
    assert password_problem("maria.lopez@example.com", "maria.lopez@example.com") == LIKE_EMAIL
    assert password_problem("Maria.Lopez@Example.com!", "maria.lopez@example.com") == LIKE_EMAIL
    assert password_problem("maria.lopez77", "maria.lopez@example.com") == LIKE_EMAIL
    assert password_problem("MariaLopez__", "maria.lopez@example.com") == LIKE_EMAIL
    # A long passphrase that happens to hold a short local part is fine.
    assert password_problem("the bob who walks the harbour", "bob@example.com") is None
    assert password_problem("maria.lopez77", "") is None
