"""How typed input becomes yen, digits and 受取人名 (and what is refused)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from netbank.banking.forms import parse_fixed_digits, parse_name_kana, parse_yen
from netbank.banking.kana import KanaError, to_halfwidth_kana


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ヤマダ　タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"),
        ("ｶﾌﾞｼｷｶﾞｲｼｬ", "ｶﾌﾞｼｷｶﾞｲｼﾔ"),  # small kana become large, as the network does
        ("パピプペポ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"),
        ("ヴィーナス", "ｳﾞｲ-ﾅｽ"),
        ("（カ）ネットショウジ", "(ｶ)ﾈﾂﾄｼﾖｳｼﾞ"),
        ("ＡＢＣ　ｓｈｏｊｉ", "ABC SHOJI"),
        ("  スズキ   ハナコ  ", "ｽｽﾞｷ ﾊﾅｺ"),
    ],
)
def test_name_is_converted_to_half_width_katakana(typed: str, expected: str) -> None:
    assert to_halfwidth_kana(typed) == expected


@pytest.mark.parametrize("typed", ["山田", "やまだ😀", "ｽｽﾞｷ\u200bﾊﾅｺ", "ﾊﾅｺ\n", "ﾊﾅｺ;DROP"])
def test_name_with_characters_the_network_cannot_carry_is_refused(typed: str) -> None:
    with pytest.raises(KanaError):
        to_halfwidth_kana(typed)


def test_name_longer_than_30_half_width_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="30文字以内"):
        parse_name_kana("ア" * 31, "受取人名")
    assert parse_name_kana("ア" * 30, "受取人名") == "ｱ" * 30


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("10000", 10_000),
        ("１０，０００", 10_000),
        ("10,000円", 10_000),
        (" 1 000 ", 1_000),
        ("０００１", 1),
        ("999999999999", 999_999_999_999),
    ],
)
def test_yen_as_customers_type_it(typed: str, expected: int) -> None:
    assert parse_yen(typed, "金額") == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "1円以上"),
        ("-1", "1円以上"),
        ("－５００", "1円以上"),
        ("1.5", "数字で"),
        ("1e6", "数字で"),
        ("一万", "数字で"),
        ("", "入力してください"),
        ("1000000000000", "大きすぎます"),
    ],
)
def test_bad_amounts_get_a_clear_message(typed: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_yen(typed, "金額")


@pytest.mark.parametrize("typed", ["123456", "12345678", "123456a", "１２３４５６", "123-456"])
def test_account_number_must_be_seven_digits(typed: str) -> None:
    with pytest.raises(ValidationError, match="7桁"):
        parse_fixed_digits(typed, 7, "口座番号")


def test_full_width_account_number_is_converted() -> None:
    assert parse_fixed_digits("１２３４５６７", 7, "口座番号") == "1234567"
