"""Bank details a creator types and the payment references brands quote: IBANs by their
ISO 13616 check digits and country length, BICs, US routing numbers by the ABA checksum, and
references whose check character catches a typo."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import bank

# Published examples (the IBAN registry's and national banks' documentation).
VALID_IBANS = [
    "DE89 3704 0044 0532 0130 00",
    "GB82 WEST 1234 5698 7654 32",
    "GB33BUKB20201555555555",
    "FR14 2004 1010 0505 0001 3M02 606",
    "NL91ABNA0417164300",
    "BE68539007547034",
    "NO9386011117947",
    "ch93 0076 2011 6238 5295 7",
    "MT84MALT011000012345MTLCAST001S",
]


@pytest.mark.parametrize("iban", VALID_IBANS)
def test_published_ibans_are_valid(iban: str) -> None:
    assert bank.iban_problem(iban) is None


@pytest.mark.parametrize(
    ("iban", "why"),
    [
        ("DE89 3704 0044 0532 0130 01", "check digits do not match"),  # last digit mistyped
        ("DE89 3704 0044 0532 0103 00", "check digits do not match"),  # two digits swapped
        ("GB82WEST1234569876543", "has 22 characters; this one has 21"),
        ("DE89 3704 0044 0532 0130 000", "has 22 characters; this one has 23"),
        ("US12 3456 7890 1234", "US is not a country using IBANs"),
        ("DEAB 3704 0044 0532 0130 00", "check digits"),
        ("DE89-3704-0044-0532-0130-0€", "only letters and digits"),
        ("", "Enter the IBAN"),
        ("DE8", "too short"),
    ],
)
def test_wrong_ibans_say_what_is_wrong(iban: str, why: str) -> None:
    problem = bank.iban_problem(iban)
    assert problem is not None and why in problem


def test_check_digits_are_computed_as_the_standard_says() -> None:
    assert bank.iban_check_digits("DE", "370400440532013000") == "89"
    assert bank.iban_check_digits("GB", "WEST12345698765432") == "82"
    assert bank.format_iban("de89370400440532013000") == "DE89 3704 0044 0532 0130 00"


@given(st.text(alphabet="0123456789", min_size=18, max_size=18), st.integers(0, 17))
def test_any_one_digit_changed_is_caught(bban: str, position: int) -> None:
    iban = f"DE{bank.iban_check_digits('DE', bban)}{bban}"
    assert bank.iban_problem(iban) is None
    changed = str((int(bban[position]) + 1) % 10)
    wrong = f"{iban[: 4 + position]}{changed}{iban[5 + position :]}"
    assert bank.iban_problem(wrong) is not None


@pytest.mark.parametrize("bic", ["DEUTDEFF", "DEUTDEFF500", "bukb gb 22", "NWBKGB2L"])
def test_bics_of_8_or_11_characters_are_valid(bic: str) -> None:
    assert bank.bic_problem(bic) is None


@pytest.mark.parametrize("bic", ["DEUTDEF", "DEUTDEFF50", "1EUTDEFF", "DEUT12FF"])
def test_malformed_bics_are_refused(bic: str) -> None:
    assert bank.bic_problem(bic) is not None


@pytest.mark.parametrize("routing", ["021000021", "011000015", "026009593", "121000358"])
def test_real_routing_numbers_pass_the_aba_checksum(routing: str) -> None:
    assert bank.routing_problem(routing) is None


@pytest.mark.parametrize(
    ("routing", "why"),
    [
        ("021000022", "check digit does not match"),
        ("120000021", "check digit does not match"),  # two digits swapped
        ("02100002", "9 digits"),
        ("02100002A", "9 digits"),
        ("", "Enter the 9-digit routing number"),
    ],
)
def test_wrong_routing_numbers_are_refused(routing: str, why: str) -> None:
    problem = bank.routing_problem(routing)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    ("number", "ok"),
    [("123", False), ("1234", True), ("12345678901234567", True), ("123456789012345678", False),
     ("12-34 56", True), ("12AB56", False)],
)  # fmt: skip
def test_us_account_numbers_have_4_to_17_digits(number: str, ok: bool) -> None:
    assert (bank.account_number_problem(number) is None) is ok


def test_bank_account_checks_every_field_at_once() -> None:
    with pytest.raises(bank.BankDetailsInvalid) as refused:
        bank.bank_account(holder_name=" ", scheme="iban", iban="DE00", bic="nope")
    assert set(refused.value.problems) == {"holder_name", "iban", "bic"}
    with pytest.raises(bank.BankDetailsInvalid) as refused:
        bank.bank_account(holder_name="Ada", scheme="us", routing_number="1", account_number="")
    assert set(refused.value.problems) == {"routing_number", "account_number"}
    with pytest.raises(bank.BankDetailsInvalid) as refused:
        bank.bank_account(holder_name="Ada", scheme="paypal")
    assert set(refused.value.problems) == {"scheme"}


def test_valid_details_are_kept_compact_and_shown_masked() -> None:
    iban = bank.bank_account(
        holder_name="  Ada   Lovelace ", scheme="iban", iban="de89 3704 0044 0532 0130 00",
        bic="cobadeffxxx",
    )  # fmt: skip
    assert iban == bank.IbanAccount("Ada Lovelace", "DE89370400440532013000", "COBADEFFXXX")
    assert iban.masked == "IBAN DE·· ···· 3000" and "0532" not in iban.masked
    us = bank.bank_account(
        holder_name="Grace Hopper", scheme="us", routing_number="021000021",
        account_number="000123456789",
    )  # fmt: skip
    assert us == bank.UsAccount("Grace Hopper", "021000021", "000123456789")
    assert us.masked == "US account ···· 6789"


def test_sealed_details_open_only_with_the_key_for_their_owner() -> None:
    key, other_key = bytes(range(32)), bytes(32)
    account = bank.IbanAccount("Ada Lovelace", "DE89370400440532013000", None)
    sealed = bank.seal(account, key, "creator-1")
    assert b"DE89" not in sealed and b"Lovelace" not in sealed
    assert bank.unseal(sealed, key, "creator-1") == account
    assert bank.seal(account, key, "creator-1") != sealed  # a fresh nonce every time
    for wrong_key, owner in [(other_key, "creator-1"), (key, "creator-2")]:
        with pytest.raises(bank.SealBroken):
            bank.unseal(sealed, wrong_key, owner)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(bank.SealBroken):
        bank.unseal(tampered, key, "creator-1")
    us = bank.UsAccount("Grace Hopper", "021000021", "000123456789")
    assert bank.unseal(bank.seal(us, key, "c"), key, "c") == us
    assert bank.key_id(key) != bank.key_id(other_key) and len(bank.key_id(key)) == 16


def test_payment_references_are_stable_human_typable_and_checked() -> None:
    reference = bank.payment_reference(b"funding-1")
    assert reference == bank.payment_reference(b"funding-1")
    assert reference != bank.payment_reference(b"funding-2")
    assert len(reference) == len("NX-7K3F-9Q2M") and reference.startswith("NX-")
    assert not set(reference[3:]) & set("ILOU")
    # Typed loosely: lower case, spaces, O for 0 and I or L for 1 are the same reference.
    loose = reference.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert bank.parse_reference(loose) == reference
    assert bank.parse_reference(reference.replace("NX-", "")) == reference
    # A code that itself begins with the prefix's letters, typed without the prefix.
    code = "NX7K3F9" + bank._luhn32("NX7K3F9")
    assert bank.parse_reference(code) == f"NX-{code[:4]}-{code[4:]}"


@given(st.binary(min_size=1, max_size=16), st.integers(0, 7), st.integers(1, 31))
def test_a_mistyped_character_is_caught(seed: bytes, position: int, shift: int) -> None:
    code = bank.payment_reference(seed).replace("-", "")[2:]
    wrong = bank.ALPHABET[(bank.ALPHABET.index(code[position]) + shift) % 32]
    typo = code[:position] + wrong + code[position + 1 :]
    with pytest.raises(bank.BadReference, match="typo"):
        bank.parse_reference(typo)


def test_swapped_neighbours_are_caught() -> None:
    caught = total = 0
    for n in range(300):
        code = bank.payment_reference(str(n).encode()).replace("-", "")[2:]
        for i in range(7):
            if code[i] == code[i + 1]:
                continue
            total += 1
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            try:
                bank.parse_reference(swapped)
            except bank.BadReference:
                caught += 1
    assert caught / total > 0.95


@pytest.mark.parametrize("text", ["", "NX-7K3F", "NX-7K3F-9Q2M-XX", "NX-7K3F-9Q2!"])
def test_what_is_not_a_reference_says_how_one_looks(text: str) -> None:
    with pytest.raises(bank.BadReference, match="looks like NX-"):
        bank.parse_reference(text)
