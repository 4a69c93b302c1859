"""受取人名 in the characters the Zengin network carries: half-width katakana,
upper-case A–Z, digits, space and ( ) . - / ｢ ｣ , ¥.

Customers type full-width katakana, hiragana, full-width letters and digits; these
are converted. Small kana become large ones and long-vowel marks become "-", as
the network's own conversion does. Anything else is refused with a message.
"""

from __future__ import annotations

import unicodedata

_DAKUTEN = "\uff9e"  # ﾞ
_HANDAKUTEN = "\uff9f"  # ﾟ
_SMALL_TO_LARGE = str.maketrans("ｧｨｩｪｫｯｬｭｮ", "ｱｲｳｴｵﾂﾔﾕﾖ")
MAX_LENGTH = 30


def _build_full_to_half() -> dict[str, str]:
    table: dict[str, str] = {}
    # NFKC maps each half-width katakana (U+FF61–U+FF9F) to its full-width form;
    # inverting it gives the base table.
    for code in range(0xFF61, 0xFFA0):
        half = chr(code)
        full = unicodedata.normalize("NFKC", half)
        if len(full) == 1:
            table.setdefault(full, half)
    # Voiced and semi-voiced full-width katakana decompose into base + mark.
    for code in range(0x30A1, 0x30FB):
        full = chr(code)
        if full in table:
            continue
        parts = unicodedata.normalize("NFD", full)
        if len(parts) == 2 and parts[0] in table:
            mark = {"\u3099": _DAKUTEN, "\u309a": _HANDAKUTEN}.get(parts[1])
            if mark is not None:
                table[full] = table[parts[0]] + mark
    table["ヴ"] = "ｳ" + _DAKUTEN
    table["ー"] = "-"
    table["ｰ"] = "-"
    table["\u3000"] = " "
    table["・"] = "."
    table["「"] = "｢"
    table["」"] = "｣"
    table["、"] = ","
    table["。"] = "."
    return table


_FULL_TO_HALF = _build_full_to_half()
_ALLOWED_SYMBOLS = frozenset(" ().-/｢｣,\\¥")


class KanaError(ValueError):
    """The name holds a character the transfer network cannot carry."""

    def __init__(self, char: str) -> None:
        super().__init__(char)
        self.char = char


def _is_allowed(ch: str) -> bool:
    if "A" <= ch <= "Z" or "0" <= ch <= "9" or ch in _ALLOWED_SYMBOLS:
        return True
    # ｦ (FF66), ｱ–ﾝ (FF71–FF9D) and the two voicing marks (FF9E, FF9F).
    return ch == "ｦ" or "\uff71" <= ch <= "\uff9f"


def to_katakana(text: str) -> str:
    """ひらがな → カタカナ (ぁ–ゖ are 0x60 below their katakana); everything else as is."""
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


def to_halfwidth_kana(text: str) -> str:
    """Convert a typed 受取人名 to the network's half-width form, or raise KanaError."""
    out: list[str] = []
    # Hiragana → katakana first.
    for ch in to_katakana(text.strip(" \u3000")):
        if ch in _FULL_TO_HALF:
            out.append(_FULL_TO_HALF[ch])
            continue
        # Full-width ASCII (Ａ, ０, （) folds to ASCII; lower case is upper-cased.
        folded = unicodedata.normalize("NFKC", ch) if "\uff01" <= ch <= "\uff5e" else ch
        out.append(folded.upper())
    result = "".join(out).translate(_SMALL_TO_LARGE)
    # Collapse runs of spaces: names are compared after conversion.
    result = " ".join(part for part in result.split(" ") if part)
    for ch in result:
        if not _is_allowed(ch):
            raise KanaError(ch)
    return result


def holder_kana(name_kana: str, *, fallback: str) -> str:
    """A customer's registered カナ name as the network carries it (口座名義, the 振込依頼人
    on the payee's statement), cut to the network's 30 characters; ``fallback`` when the
    registered name holds a character the network cannot carry."""
    try:
        return to_halfwidth_kana(name_kana)[:MAX_LENGTH]
    except KanaError:
        return fallback
