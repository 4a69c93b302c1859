"""Input rules for customer-facing fields, with the messages customers see.

Each ``validate_*`` takes the raw submitted string, raises ``ValidationError`` with a
clear Japanese message (msgids are Japanese; English lives in the .po file), and
returns the value to use. Lengths are counted on the raw input, before any
normalisation, so what the customer typed is what the rule measures.

ログインID: half-width letters and digits only, 6 to 12 characters, case-sensitive
(``Yamada01`` and ``yamada01`` are different IDs). No symbols, so an ID can never be
confused with an e-mail address or a password typed into the wrong field.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LOGIN_ID_MIN = 6
LOGIN_ID_MAX = 12
PASSWORD_MAX = 64
SECRET_ANSWER_MAX = 16
EMAIL_MAX = 254

_ALNUM = re.compile(r"[A-Za-z0-9]+")
_DIGITS = re.compile(r"[0-9]+")
# Printable ASCII except space: what a password may contain.
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
# The ASCII subset an address may contain (local part and domain, no quoting).
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+"
)
# Unicode categories refused everywhere: control, format (zero-width, bidi overrides),
# surrogates, private use and line/paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
# Spaces trimmed from answers: half-width, full-width (U+3000) and other Unicode spaces.
_SPACES = re.compile(r"\s+")


def has_control_characters(raw: str) -> bool:
    return any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in raw)


def normalize_answer(s: str) -> str:
    """The form in which a secret answer is hashed and compared.

    NFKC (full- and half-width letters, digits and kana become one form), case-folded,
    with leading and trailing half- and full-width spaces removed and inner runs of
    spaces reduced to one, so 「サッカー部」, 「 サッカー部　」 and 「ｻｯｶｰ部」 match.
    """
    folded = unicodedata.normalize("NFKC", s).casefold()
    return _SPACES.sub(" ", folded).strip()


def _common(raw: str | None, label: str, max_len: int) -> str:
    """Required, not too long (raw count), no control characters."""
    value = raw if isinstance(raw, str) else ""
    if value == "" or value.strip(" \u3000") == "":
        raise ValidationError(
            _("%(label)sを入力してください。") % {"label": label}, code="required"
        )
    if len(value) > max_len:
        raise ValidationError(
            _("%(label)sは%(max)s文字以内で入力してください。") % {"label": label, "max": max_len},
            code="max_length",
        )
    if has_control_characters(value):
        raise ValidationError(
            _("%(label)sに使用できない文字（制御文字）が含まれています。") % {"label": label},
            code="control",
        )
    return value


def validate_login_id(raw: str | None, label: str | None = None) -> str:
    """ログインID: 6–12 half-width letters and digits, case-sensitive."""
    label = label or _("ログインID")
    value = _common(raw, label, LOGIN_ID_MAX)
    if not value.isascii():
        raise ValidationError(
            _("%(label)sは半角英数字で入力してください（全角文字は使用できません）。")
            % {"label": label},
            code="full_width",
        )
    if not _ALNUM.fullmatch(value):
        raise ValidationError(
            _("%(label)sは半角英数字（記号・空白を除く）で入力してください。") % {"label": label},
            code="charset",
        )
    if len(value) < LOGIN_ID_MIN:
        raise ValidationError(
            _("%(label)sは%(min)s～%(max)s文字の半角英数字で入力してください。")
            % {"label": label, "min": LOGIN_ID_MIN, "max": LOGIN_ID_MAX},
            code="min_length",
        )
    return value


def validate_password_input(
    raw: str | None, label: str | None = None, max_len: int = PASSWORD_MAX
) -> str:
    """A password as typed at a check (login, 確認用パスワード): format only.

    Says nothing about the password policy, only whether the input can be a password:
    present, not too long, half-width printable characters.
    """
    label = label or _("ログインパスワード")
    value = _common(raw, label, max_len)
    if not value.isascii():
        raise ValidationError(
            _("%(label)sは半角英数字記号で入力してください（全角文字は使用できません）。")
            % {"label": label},
            code="full_width",
        )
    if not _PRINTABLE_ASCII.fullmatch(value):
        raise ValidationError(
            _("%(label)sに空白は使用できません。") % {"label": label}, code="charset"
        )
    return value


def validate_half_width_digits(raw: str | None, min_len: int, max_len: int, label: str) -> str:
    """Half-width digits, ``min_len``–``max_len`` of them (e.g. 利用開始パスワード 4–8)."""
    value = _common(raw, label, max_len)
    if not value.isascii():
        raise ValidationError(
            _("%(label)sは半角数字で入力してください（全角数字は使用できません）。")
            % {"label": label},
            code="full_width",
        )
    if not _DIGITS.fullmatch(value):
        raise ValidationError(
            _("%(label)sは半角数字のみで入力してください。") % {"label": label}, code="charset"
        )
    if len(value) < min_len:
        raise ValidationError(
            _("%(label)sは%(min)s～%(max)s桁の数字で入力してください。")
            % {"label": label, "min": min_len, "max": max_len},
            code="min_length",
        )
    return value


def validate_email_address(raw: str | None, label: str | None = None) -> str:
    """An address the mail can reach: half-width, ``local@domain.tld``, at most 254."""
    label = label or _("メールアドレス")
    value = _common(raw, label, EMAIL_MAX)
    if not value.isascii():
        raise ValidationError(
            _("%(label)sは半角英数字記号で入力してください（全角文字は使用できません）。")
            % {"label": label},
            code="full_width",
        )
    if not _EMAIL.fullmatch(value):
        raise ValidationError(
            _("%(label)sの形式が正しくありません。") % {"label": label}, code="invalid"
        )
    return value


def validate_secret_answer(raw: str | None, label: str | None = None) -> str:
    """追加認証の回答: required, at most 16 characters as typed, no control characters.

    The leaflet's 《全角16文字以内》: the limit is counted on the raw input (16
    half-width or full-width characters alike). Returns the raw value; hash and compare
    ``normalize_answer(value)``.
    """
    label = label or _("回答")
    value = _common(raw, label, SECRET_ANSWER_MAX)
    if normalize_answer(value) == "":
        raise ValidationError(
            _("%(label)sを入力してください。") % {"label": label}, code="required"
        )
    return value
