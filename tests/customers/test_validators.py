from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from netbank.customers.validators import (
    normalize_answer,
    validate_email_address,
    validate_half_width_digits,
    validate_login_id,
    validate_password_input,
    validate_secret_answer,
)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ｻｯｶｰ部", "サッカー部"),  # half-width kana
        ("　サッカー部　", "サッカー部"),  # full-width spaces around
        (" サッカー部 ", "サッカー部"),  # half-width spaces around
        ("ＴＯＴＯＲＯ", "totoro"),  # full-width latin, case-folded
        ("Totoro", "TOTORO"),
        ("となりの　 トトロ", "となりの トトロ"),  # inner run of spaces becomes one
    ],
)
def test_answers_that_differ_only_in_width_case_or_spacing_normalise_alike(
    typed: str, stored: str
) -> None:
    assert normalize_answer(typed) == normalize_answer(stored)


def test_different_answers_stay_different_after_normalising() -> None:
    assert normalize_answer("サッカー部") != normalize_answer("野球部")
    assert normalize_answer("となりのトトロ") != normalize_answer("となりの トトロ")


def test_sixteen_full_width_characters_are_accepted() -> None:
    answer = "あ" * 16
    assert validate_secret_answer(answer) == answer


def test_answer_length_is_counted_on_the_raw_input_not_after_trimming() -> None:
    # 5 characters once trimmed, but 17 as typed: the leaflet's limit is on the input.
    with pytest.raises(ValidationError) as info:
        validate_secret_answer("サッカー部" + "　" * 12)
    assert "16文字以内" in info.value.messages[0]


def test_seventeen_characters_are_refused_with_the_limit_in_the_message() -> None:
    with pytest.raises(ValidationError) as info:
        validate_secret_answer("あ" * 17)
    assert info.value.code == "max_length"


@pytest.mark.parametrize("raw", ["", "   ", "　　", None])
def test_empty_or_blank_answer_is_required(raw: str | None) -> None:
    with pytest.raises(ValidationError) as info:
        validate_secret_answer(raw)
    assert info.value.code == "required"
    assert "入力してください" in info.value.messages[0]


@pytest.mark.parametrize("ch", ["\x00", "\x07", "\n", "\u200b", "\u202e", "\u2028", "\ue000"])
def test_control_and_invisible_characters_are_refused_in_answers(ch: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_secret_answer(f"サッカー{ch}部")
    assert info.value.code == "control"


@pytest.mark.parametrize("login_id", ["yamada01", "ABCDEF", "a1b2c3d4e5f6"])
def test_login_id_accepts_six_to_twelve_half_width_alphanumerics(login_id: str) -> None:
    assert validate_login_id(login_id) == login_id


@pytest.mark.parametrize(
    ("raw", "code", "fragment"),
    [
        ("ｙａｍａｄａ０１", "full_width", "半角英数字"),
        ("やまだたろう", "full_width", "半角英数字"),
        ("yamada", "ok", ""),
        ("yamad", "min_length", "6～12文字"),
        ("a" * 13, "max_length", "12文字以内"),
        ("yamada-01", "charset", "半角英数字"),
        ("yamada 01", "charset", "半角英数字"),
        ("yama\x00da01", "control", "制御文字"),
        ("", "required", "入力してください"),
    ],
)
def test_login_id_rule_breakers_get_a_clear_message(raw: str, code: str, fragment: str) -> None:
    if code == "ok":
        assert validate_login_id(raw) == raw
        return
    with pytest.raises(ValidationError) as info:
        validate_login_id(raw)
    assert info.value.code == code
    assert fragment in info.value.messages[0]
    assert "ログインID" in info.value.messages[0]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("１２３４", "full_width"),
        ("12a4", "charset"),
        ("123", "min_length"),
        ("123456789", "max_length"),
        ("12\t34", "control"),
        ("", "required"),
    ],
)
def test_half_width_digits_rule_breakers(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_half_width_digits(raw, 4, 8, "利用開始パスワード")
    assert info.value.code == code
    assert "利用開始パスワード" in info.value.messages[0]


def test_half_width_digits_accepts_the_bounds() -> None:
    assert validate_half_width_digits("0000", 4, 8, "x") == "0000"
    assert validate_half_width_digits("12345678", 4, 8, "x") == "12345678"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("ｐａｓｓ", "full_width"),
        ("pass word", "charset"),
        ("x" * 65, "max_length"),
        ("", "required"),
    ],
)
def test_password_input_format_rule_breakers(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_password_input(raw)
    assert info.value.code == code


@pytest.mark.parametrize(
    "raw", ["taro@example", "taro@@example.jp", "ｔａｒｏ@example.jp", "taro@exa mple.jp"]
)
def test_malformed_email_addresses_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        validate_email_address(raw)


def test_ordinary_email_address_is_accepted() -> None:
    assert validate_email_address("uid1723_6211@i.softbank.jp") == "uid1723_6211@i.softbank.jp"
