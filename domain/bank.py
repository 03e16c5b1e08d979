"""Bank details and payment references: plain rules, no I/O.

- IBAN (ISO 13616): the country's length from the IBAN registry and the mod-97 check digits.
- BIC (ISO 9362): 8 or 11 characters, bank, country, location (and branch).
- US accounts: the ABA routing number's weighted checksum (3, 7, 1) and a 4 to 17 digit
  account number.
- Payment references a brand types on its bank transfer ("NX-7K3F-9Q2M"): Crockford base-32
  (no I, L, O or U to misread) with a Luhn mod-32 check character, so a mistyped character or
  two swapped neighbours are caught before any money is matched to the wrong invoice.
- Sealing: payout bank details are kept encrypted (AES-256-GCM) under a key from settings,
  bound to whose details they are, and shown back masked (the last four characters).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# IBAN lengths by country, from the SWIFT IBAN registry (ISO 13616).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

_SEPARATORS = re.compile(r"[\s\-.]")
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")
_HOLDER_MAX = 140  # what a SEPA credit transfer carries for a name


class BankDetailsInvalid(ValueError):
    """Bank details that cannot be paid to: `problems` maps each field to why."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def compact(text: str) -> str:
    """What a person typed, without spaces, dashes or dots, in capitals."""
    return _SEPARATORS.sub("", text).upper()


# -- IBAN and BIC -----------------------------------------------------------------------------


def iban_problem(text: str) -> str | None:
    """Why `text` is not a valid IBAN, or None when it is."""
    iban = compact(text)
    if not iban:
        return "Enter the IBAN."
    if not iban.isascii() or not iban.isalnum():
        return "An IBAN has only letters and digits."
    country = iban[:2]
    if len(iban) < 5:
        return "This IBAN is too short."
    if country not in IBAN_LENGTHS:
        return f"An IBAN starts with its country code; {country} is not a country using IBANs."
    expected = IBAN_LENGTHS[country]
    if len(iban) != expected:
        return f"An IBAN from {country} has {expected} characters; this one has {len(iban)}."
    if not iban[2:4].isdigit():
        return "The third and fourth characters of an IBAN are its check digits."
    if mod97(iban) != 1:
        return "The check digits do not match: look for a mistyped character."
    return None


def mod97(iban: str) -> int:
    """ISO 7064 MOD 97-10 over the IBAN moved round (country and check digits last), letters
    as numbers (A=10 ... Z=35): 1 for a valid IBAN."""
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97


def iban_check_digits(country: str, bban: str) -> str:
    """The two check digits an IBAN of `country` with this account part carries."""
    remainder = mod97(f"{country}00{bban}")
    return f"{98 - remainder:02d}"


def format_iban(iban: str) -> str:
    """Groups of four, as printed on statements."""
    plain = compact(iban)
    return " ".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def bic_problem(text: str) -> str | None:
    bic = compact(text)
    if not _BIC.fullmatch(bic):
        return "A BIC (SWIFT code) has 8 or 11 letters and digits, like DEUTDEFF or DEUTDEFF500."
    return None


# -- US routing and account numbers -----------------------------------------------------------


def routing_problem(text: str) -> str | None:
    """Why `text` is not an ABA routing number, or None when it is."""
    number = compact(text)
    if not number:
        return "Enter the 9-digit routing number."
    if not number.isascii() or not number.isdigit() or len(number) != 9:
        return "A routing number has 9 digits."
    if aba_checksum(number) % 10 != 0:
        return "This routing number's check digit does not match: look for a mistyped digit."
    return None


def aba_checksum(number: str) -> int:
    """3, 7, 1 times the digits in turn, summed: a multiple of 10 for a valid number."""
    weights = (3, 7, 1) * 3
    return sum(w * int(d) for w, d in zip(weights, number, strict=True))


def account_number_problem(text: str) -> str | None:
    number = compact(text)
    if not number:
        return "Enter the account number."
    if not number.isascii() or not number.isdigit():
        return "A US account number has only digits."
    if not 4 <= len(number) <= 17:
        return "A US account number has 4 to 17 digits."
    return None


# -- a creator's payout details ---------------------------------------------------------------


@dataclass(frozen=True)
class IbanAccount:
    holder_name: str
    iban: str
    bic: str | None = None

    scheme = "iban"

    @property
    def country(self) -> str:
        return self.iban[:2]

    @property
    def last4(self) -> str:
        return self.iban[-4:]

    @property
    def masked(self) -> str:
        return f"IBAN {self.country}·· ···· {self.last4}"


@dataclass(frozen=True)
class UsAccount:
    holder_name: str
    routing_number: str
    account_number: str

    scheme = "us"

    @property
    def country(self) -> str:
        return "US"

    @property
    def last4(self) -> str:
        return self.account_number[-4:]

    @property
    def masked(self) -> str:
        return f"US account ···· {self.last4}"


BankAccount = IbanAccount | UsAccount


def holder_problem(text: str) -> str | None:
    name = " ".join(text.split())
    if not name:
        return "Enter the name on the account."
    if len(name) > _HOLDER_MAX:
        return f"Use at most {_HOLDER_MAX} characters."
    if any(not ch.isprintable() for ch in name):
        return "Use letters, spaces and punctuation only."
    return None


def bank_account(
    *,
    holder_name: str,
    scheme: str,
    iban: str = "",
    bic: str = "",
    routing_number: str = "",
    account_number: str = "",
) -> BankAccount:
    """Payout details from what a creator typed, checked in full; every problem at once."""
    problems: dict[str, str] = {}
    if (problem := holder_problem(holder_name)) is not None:
        problems["holder_name"] = problem
    holder = " ".join(holder_name.split())
    if scheme == "iban":
        if (problem := iban_problem(iban)) is not None:
            problems["iban"] = problem
        if bic.strip() and (problem := bic_problem(bic)) is not None:
            problems["bic"] = problem
        if problems:
            raise BankDetailsInvalid(problems)
        return IbanAccount(holder, compact(iban), compact(bic) or None)
    if scheme == "us":
        if (problem := routing_problem(routing_number)) is not None:
            problems["routing_number"] = problem
        if (problem := account_number_problem(account_number)) is not None:
            problems["account_number"] = problem
        if problems:
            raise BankDetailsInvalid(problems)
        return UsAccount(holder, compact(routing_number), compact(account_number))
    problems["scheme"] = "Choose IBAN or US bank account."
    raise BankDetailsInvalid(problems)


# -- sealing ----------------------------------------------------------------------------------

_SEAL_VERSION = b"\x01"
_NONCE = 12


class SealBroken(ValueError):
    """Sealed details that do not open with this key for this owner (another key, another
    owner's details swapped in, or altered bytes)."""


def key_id(key: bytes) -> str:
    """A short public fingerprint of a sealing key (which key sealed a row)."""
    return hashlib.sha256(b"nexus payout details key" + key).hexdigest()[:16]


def seal(account: BankAccount, key: bytes, owner: str) -> bytes:
    """AES-256-GCM under `key`, bound to `owner` (whose details they are): a sealed value moved
    to another owner's row does not open."""
    body = json.dumps({"scheme": account.scheme, **asdict(account)}, sort_keys=True).encode()
    nonce = secrets.token_bytes(_NONCE)
    return _SEAL_VERSION + nonce + AESGCM(key).encrypt(nonce, body, _aad(owner))


def unseal(sealed: bytes, key: bytes, owner: str) -> BankAccount:
    if sealed[:1] != _SEAL_VERSION or len(sealed) < 1 + _NONCE + 16:
        raise SealBroken("not sealed payout details")
    nonce, ciphertext = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
    try:
        body = json.loads(AESGCM(key).decrypt(nonce, ciphertext, _aad(owner)))
    except InvalidTag as exc:
        raise SealBroken("the payout details do not open with this key") from exc
    scheme = body.pop("scheme")
    return IbanAccount(**body) if scheme == "iban" else UsAccount(**body)


def _aad(owner: str) -> bytes:
    return f"nexus payout details v1:{owner}".encode()


# -- payment references -----------------------------------------------------------------------

# Crockford's base 32: digits and letters without I, L, O, U.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Characters people type for the ones the alphabet leaves out.
_READS_AS = {"O": "0", "I": "1", "L": "1"}
REFERENCE_PREFIX = "NX"
_BODY = 7  # 32**7: 34 billion references


def _luhn32(chars: str) -> str:
    """The Luhn mod-N check character over `chars` (N = 32)."""
    total, factor = 0, 2
    for ch in reversed(chars):
        addend = factor * _VALUE[ch]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def payment_reference(seed: bytes) -> str:
    """A reference like "NX-7K3F-9Q2M" derived from `seed`: seven characters and a check
    character, in two groups of four."""
    number = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") % 32**_BODY
    body = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(_BODY)))
    code = body + _luhn32(body)
    return f"{REFERENCE_PREFIX}-{code[:4]}-{code[4:]}"


class BadReference(ValueError):
    pass


def parse_reference(text: str) -> str:
    """A typed reference in its canonical form ("nx 7k3f 9q2m" -> "NX-7K3F-9Q2M"); refused
    (BadReference, saying why) when it is not one or its check character does not match."""
    plain = compact(text)
    # Only a prefix beyond the code's own length: a code may itself begin with "NX".
    if len(plain) > _BODY + 1:
        plain = plain.removeprefix(REFERENCE_PREFIX)
    code = "".join(_READS_AS.get(ch, ch) for ch in plain)
    if len(code) != _BODY + 1 or any(ch not in _VALUE for ch in code):
        raise BadReference("A payment reference looks like NX-7K3F-9Q2M.")
    if _luhn32(code[:-1]) != code[-1]:
        raise BadReference("This reference has a typo: its check character does not match.")
    return f"{REFERENCE_PREFIX}-{code[:4]}-{code[4:]}"
