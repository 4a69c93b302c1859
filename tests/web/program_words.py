"""Finding program words in what people read: codes (``login.failed``, ``name_birthdate``),
Python's None/True/False, and English words the bank does not use on purpose.

Reads the text a person sees (text nodes, placeholders, image texts), not attributes
such as ``title`` and not the ``<details class="codes">`` where support reads a code.
Values the page shows as data (a login ID, an e-mail address, an operator's user name)
are given by the test and taken out first: they are the customer's or operator's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

# English the bank uses on purpose, in Japanese text as in the leaflet.
ALLOWED_WORDS = frozenset(
    {
        "ID",  # ログインID, ユーザID, サービスID
        "OTP",
        "Direct",  # Directログイン
        "CSV",
        "English",  # the language switch
        "PC",  # the PC/スマートフォン display switch
        "Step",  # the leaflet's steps (リーフレットのStep 1)
        "URL",
        "IP",  # 接続元IPアドレス
        "QR",  # QRコード
        "Cookie",  # ブラウザの履歴（Cookie）, in the login notice
        "PIN",  # the phone's screen lock (指紋・顔認証・PINなど)
        "Python",  # what the token app runs on (アプリはPython 3.11以上で動作します)
        # Apps and services the customer is told to use, by their names.
        "iPhone",
        "iCloud",
        "Google",
        "Authenticator",
        "Aegis",
        "FreeOTP",
    }
)

# Literals the customer reads as they are, not as words: addresses, file names and
# paths, the leaflet's screen IDs (画面ID: SLI012).
_LITERALS = (
    re.compile(r"https?://\S+", re.ASCII),
    # An address, masked too (ta***@example.jp).
    re.compile(r"[\w.+*-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII),
    re.compile(r"~?(?:/[\w.-]+){2,}", re.ASCII),
    re.compile(r"\b[\w-]+\.(?:json|csv|pem|txt)\b", re.ASCII),
    re.compile(r"\b[A-Z]{3}\d{3}\b"),
    # A key's fingerprint to compare (54BA 8862 5A20 …).
    re.compile(r"\b[0-9A-F]{4}(?: [0-9A-F]{4}){3,}\b"),
)

# ASCII: a code written right after Japanese (「イベントlogin.failed」) is found too.
_SNAKE = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9]*_[a-z0-9_]+(?![\w@/-])", re.ASCII)
_DOTTED = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*(?![\w@/-])", re.ASCII)
_PYTHON = re.compile(r"\b(None|True|False)\b", re.ASCII)
_WORD = re.compile(r"[A-Za-z][A-Za-z]+")
# Not read as words: scripts, and what is shown as a literal to type or compare (a
# command, a key's fingerprint) in <pre>, <code>, <kbd> or <samp>.
_SKIP = {"script", "style", "template", "pre", "code", "kbd", "samp"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        classes = (attr.get("class") or "").split()
        if tag in _SKIP or (tag == "details" and any(c.endswith("codes") for c in classes)):
            self._skip.append(tag)
            return
        if self._skip:
            if tag == self._skip[0]:
                self._skip.append(tag)
            return
        for name in ("placeholder", "alt"):
            if attr.get(name):
                self.parts.append(str(attr[name]))
        if tag == "input" and attr.get("type") in ("submit", "button") and attr.get("value"):
            self.parts.append(str(attr["value"]))

    def handle_endtag(self, tag: str) -> None:
        if self._skip and tag == self._skip[-1]:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "\n".join(p.strip() for p in parser.parts if p.strip())


def program_words(text: str, data: Iterable[str] = ()) -> list[str]:
    """The program words in ``text`` (visible text or a mail), once each, in order."""
    for value in sorted({d for d in data if d}, key=len, reverse=True):
        text = text.replace(value, " ")
    for literal in _LITERALS:
        text = literal.sub(" ", text)
    found: list[str] = []
    for pattern in (_SNAKE, _DOTTED, _PYTHON):
        found += pattern.findall(text)
    found += [w for w in _WORD.findall(text) if w not in ALLOWED_WORDS]
    return list(dict.fromkeys(found))


def page_program_words(html: str, data: Iterable[str] = ()) -> list[str]:
    return program_words(visible_text(html), data)
