"""English, the second language: the catalogue is complete, compiled, in step with the code,
and the customer's pages really come out in English.

The msgids are the Japanese UI texts. ``bin/messages`` refreshes
src/netbank/locale/en/LC_MESSAGES/django.po from the code and compiles django.mo; both are
committed, so an install needs no gettext tools. These tests fail when a Japanese string
has no English, when the committed .mo is stale, or when a key page still shows Japanese.
"""

from __future__ import annotations

import ast
import gettext
import html
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

import netbank
from tests.banking.factories import open_account
from tests.otp import test_phone_support as phone
from tests.otp import test_screens_support as screens

SRC = Path(netbank.__file__).resolve().parent
REPO = SRC.parent.parent
PO = SRC / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
BIN_MESSAGES = REPO / "bin" / "messages"

# What bin/messages passes to makemessages; test_bin_messages_extracts_like_this_test keeps
# the two in step, so the extraction below sees exactly what the script sees.
MAKEMESSAGES_ARGS = [
    "-l",
    "en",
    "--no-location",
    "--no-obsolete",
    "-e",
    "html,txt,py",
    "-i",
    "token_app",
]

# Kana, CJK ideographs, Japanese punctuation (、。「」【】《》) and full-width forms
# (（）：～…, half-width katakana).
JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")
# Left in Japanese on purpose: the switch back to Japanese names its language in Japanese,
# and "＞" is the breadcrumb separator between translated items.
DELIBERATE_JAPANESE = ("日本語", "＞")
# %(name)s / %(name)d as Django's gettext and blocktranslate use them.
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
_POT_DATE = re.compile(r"^POT-Creation-Date: .*\n", re.M)

pytestmark = pytest.mark.django_db


# --- the .po file --------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> str:
        """The key gettext files the entry under (context and msgid joined by EOT)."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    @property
    def translations(self) -> list[str]:
        return [self.msgstr[n] for n in sorted(self.msgstr)] or [""]


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def _po_string(quoted: str) -> str:
    """One quoted PO string (C escapes) as text."""
    body = quoted[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r", "a": "\a", "b": "\b"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), body)


def read_po(path: Path) -> list[Entry]:
    """Parse a GNU gettext PO file: every entry, with its flags, plural forms and context."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal current, target
        if current is not None:
            entries.append(current)
        current, target = None, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if line.startswith("|"):
                continue
        elif line.startswith("#"):
            if current is None:
                current = Entry()
            if line.startswith("#,"):
                current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue  # comments, references and #| previous msgids
        if current is None:
            current = Entry()
        current.obsolete = current.obsolete or obsolete
        keyword = _KEYWORD.match(line)
        if keyword:
            name, index, quoted = keyword.groups()
            if name == "msgctxt":
                current.msgctxt, target = "", ("msgctxt", 0)
            elif name == "msgid":
                target = ("msgid", 0)
            elif name == "msgid_plural":
                current.msgid_plural, target = "", ("msgid_plural", 0)
            else:
                n = int(index) if index is not None else 0
                current.msgstr.setdefault(n, "")
                target = ("msgstr", n)
            value = _po_string(quoted)
        elif line.startswith('"') and target is not None:
            value = _po_string(line)
        else:
            raise AssertionError(f"{path}: cannot read line {raw!r}")
        assert target is not None
        kind, n = target
        if kind == "msgstr":
            current.msgstr[n] += value
        elif kind == "msgid":
            current.msgid += value
        elif kind == "msgctxt":
            current.msgctxt = (current.msgctxt or "") + value
        else:
            current.msgid_plural = (current.msgid_plural or "") + value
    finish()
    return entries


def _messages(entries: list[Entry]) -> list[Entry]:
    """The entries that are messages (not the header)."""
    return [e for e in entries if e.msgid or e.msgctxt is not None]


def _catalog_of(entries: list[Entry]) -> dict[Any, str]:
    """What gettext should find in the .mo compiled from these entries."""
    catalog: dict[Any, str] = {}
    for e in entries:
        if e.obsolete or "fuzzy" in e.flags:
            continue
        if e.msgid_plural is not None:
            for n, text in e.msgstr.items():
                catalog[(e.key, n)] = text
        else:
            catalog[e.key] = e.msgstr.get(0, "")
    # msgfmt leaves POT-Creation-Date out of the compiled header (reproducible builds).
    catalog[""] = _POT_DATE.sub("", catalog.get("", ""))
    return catalog


def _mo_catalog(path: Path) -> dict[Any, str]:
    with path.open("rb") as fp:
        catalog: dict[Any, str] = gettext.GNUTranslations(fp)._catalog  # type: ignore[attr-defined]
    return catalog


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return read_po(PO)


def test_catalogue_has_no_untranslated_fuzzy_or_obsolete_entry(po_entries: list[Entry]) -> None:
    messages = _messages(po_entries)
    assert len(messages) > 500, "the English catalogue looks truncated"
    untranslated = [e.msgid for e in messages if not all(t.strip() for t in e.translations)]
    fuzzy = [e.msgid or "(header)" for e in po_entries if "fuzzy" in e.flags]
    obsolete = [e.msgid for e in po_entries if e.obsolete]
    assert not untranslated, f"translate these in {PO.name}: {untranslated}"
    assert not fuzzy, f"review and unflag these fuzzy entries: {fuzzy}"
    assert not obsolete, f"run bin/messages to drop obsolete entries: {obsolete}"


def test_header_declares_english_utf8_and_plural_forms(po_entries: list[Entry]) -> None:
    header = next(e for e in po_entries if e.msgid == "" and e.msgctxt is None).msgstr[0]
    assert "Language: en\n" in header
    assert "Content-Type: text/plain; charset=UTF-8\n" in header
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header


def test_translations_keep_every_placeholder_and_no_stray_percent(
    po_entries: list[Entry],
) -> None:
    problems = []
    for e in _messages(po_entries):
        wanted = sorted(PLACEHOLDER.findall(e.msgid))
        for text in e.translations:
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"placeholders differ: {e.msgid!r} -> {text!r}")
            # blocktranslate and "%"-formatted gettext strings break on a lone "%".
            if "%" in PLACEHOLDER.sub("", text).replace("%%", ""):
                problems.append(f"stray % (write %%): {text!r}")
    assert not problems, "\n".join(problems)


def test_translations_are_english_not_copies_of_the_japanese(po_entries: list[Entry]) -> None:
    allowed = re.compile(r"サービスID|ユーザID|利用開始パスワード")
    leftovers = [
        (e.msgid, text)
        for e in _messages(po_entries)
        for text in e.translations
        if JAPANESE.search(allowed.sub("", text.replace("…", "").replace("☎", "")))
    ]
    assert not leftovers, f"Japanese left in English translations: {leftovers}"


def test_committed_mo_holds_exactly_the_po(po_entries: list[Entry]) -> None:
    expected = _catalog_of(po_entries)
    actual = _mo_catalog(MO)
    missing = sorted(str(k) for k in expected.keys() - actual.keys())
    extra = sorted(str(k) for k in actual.keys() - expected.keys())
    changed = sorted(str(k) for k in expected.keys() & actual.keys() if expected[k] != actual[k])
    stale = "django.mo is stale: run bin/messages and commit it"
    assert not missing, f"{stale}; not in the .mo: {missing[:5]}"
    assert not extra, f"{stale}; only in the .mo: {extra[:5]}"
    assert not changed, f"{stale}; translated differently: {changed[:5]}"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} (GNU gettext) is required in CI: apt-get install gettext")
        pytest.skip(f"{name} not installed (GNU gettext); CI installs it and runs this test")
    return path


def test_msgfmt_check_accepts_the_po_and_compiles_the_committed_mo(tmp_path: Path) -> None:
    msgfmt = _tool("msgfmt")
    compiled = tmp_path / "django.mo"
    # --check: format strings of python-format entries agree, headers are well formed.
    result = subprocess.run(
        [msgfmt, "--check", "-o", str(compiled), str(PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _mo_catalog(compiled) == _mo_catalog(MO)


# --- the catalogue against the code ---------------------------------------------------


def test_bin_messages_extracts_like_this_test() -> None:
    script = BIN_MESSAGES.read_text(encoding="utf-8")
    assert os.access(BIN_MESSAGES, os.X_OK)
    assert f"makemessages {' '.join(MAKEMESSAGES_ARGS)}" in script
    assert "compilemessages -l en" in script


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> list[Entry]:
    """A fresh makemessages run over a copy of the code, into an empty catalogue.

    makemessages writes next to the code it reads (the LOCALE_PATHS folder above it), so it
    runs on a copy with its own LOCALE_PATHS and can never touch the committed catalogue.
    """
    _tool("xgettext")
    _tool("msguniq")
    tmp_path = tmp_path_factory.mktemp("i18n")
    tree = tmp_path / "tree"
    shutil.copytree(
        SRC,
        tree,
        ignore=shutil.ignore_patterns("locale", "token_app", "static", "__pycache__", "*.pyc"),
    )
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    (settings_dir / "i18n_extract_settings.py").write_text(
        "from netbank.config.test_settings import *  # noqa: F403\n"
        f"LOCALE_PATHS = [{str(tree / 'locale')!r}]\n",
        encoding="utf-8",
    )
    python_path = [str(settings_dir), os.environ.get("PYTHONPATH", "")]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "i18n_extract_settings",
        "PYTHONPATH": os.pathsep.join(p for p in python_path if p),
    }
    result = subprocess.run(
        [sys.executable, "-m", "netbank.cli", "makemessages", *MAKEMESSAGES_ARGS],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return _messages(read_po(tree / "locale" / "en" / "LC_MESSAGES" / "django.po"))


def test_every_msgid_in_the_code_has_an_english_entry(
    extracted: list[Entry], po_entries: list[Entry]
) -> None:
    assert len(extracted) > 500, "the extraction found too little; is makemessages reading it?"
    committed = {e.key for e in _messages(po_entries)}
    missing = [e.msgid for e in extracted if e.key not in committed]
    assert not missing, (
        f"{len(missing)} Japanese string(s) in the code have no English: run bin/messages, "
        f"translate them in {PO.name}, run bin/messages again and commit both files: {missing}"
    )


def test_extraction_reads_the_lazy_alias_of_gettext_lazy(extracted: list[Entry]) -> None:
    """Modules import gettext_lazy as ``_lazy``; plain xgettext would skip those strings."""
    lazy_call = re.compile(r'\b_lazy\(\s*"([^"\\]+)"\s*[,)]')
    lazy_strings = {
        text
        for path in SRC.rglob("*.py")
        if "token_app" not in path.parts
        for text in lazy_call.findall(path.read_text(encoding="utf-8"))
    }
    assert len(lazy_strings) > 20
    assert lazy_strings <= {e.msgid for e in extracted}


_GETTEXT_NAMES = frozenset(
    {"_", "_lazy", "gettext", "gettext_lazy", "gettext_noop", "pgettext", "pgettext_lazy"}
)


def _literal_gettext_calls(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, msgid) of every gettext-family call with a literal message, f-strings included."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in _GETTEXT_NAMES or not node.args:
            continue
        message = (
            node.args[1] if name.startswith("pgettext") and len(node.args) > 1 else node.args[0]
        )
        if isinstance(message, ast.Constant) and isinstance(message.value, str):
            yield node.lineno, message.value


def test_gettext_calls_xgettext_cannot_see_are_still_in_the_catalogue(
    po_entries: list[Entry],
) -> None:
    """A gettext() inside an f-string is invisible to xgettext and would stay Japanese."""
    committed = {e.msgid for e in _messages(po_entries)}
    missing = [
        f"{path.relative_to(SRC)}:{line}: {msgid!r}"
        for path in sorted(SRC.rglob("*.py"))
        if "token_app" not in path.parts
        for line, msgid in _literal_gettext_calls(ast.parse(path.read_text(encoding="utf-8")))
        if msgid not in committed
    ]
    assert not missing, "no English for (use one whole translatable string):\n" + "\n".join(missing)


# --- the pages in English --------------------------------------------------------------


def _visible_text(response: Any) -> str:
    """What a customer reads: text outside script/style, plus labels held in attributes."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S | re.I)
    attributes = re.findall(r'\s(?:aria-label|title|placeholder|alt)="([^"]*)"', body)
    attributes += re.findall(
        r'<input\b[^>]*\btype="(?:submit|button)"[^>]*\bvalue="([^"]*)"', body, flags=re.I
    )
    text = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(" ".join([text, *attributes])))


def _japanese_left(response: Any, *, customer_data: tuple[str, ...] = ()) -> list[str]:
    text = _visible_text(response)
    for allowed in (*customer_data, *DELIBERATE_JAPANESE):
        text = text.replace(allowed, " ")
    return [text[max(0, m.start() - 30) : m.end() + 30].strip() for m in JAPANESE.finditer(text)]


def _english(client: Client, next_url: str = "/") -> None:
    r = client.post(reverse("set_language"), {"language": "en", "next": next_url})
    assert r.status_code == 302
    assert r["Location"] == next_url


def test_switching_to_english_on_the_login_page_shows_login_id_and_the_helpdesk_in_english() -> (
    None
):
    client = Client()
    r = client.get("/")
    assert "ログインID" in r.content.decode()
    assert '<html lang="ja">' in r.content.decode()

    _english(client, "/")
    r = client.get("/")
    text = _visible_text(r)
    assert '<html lang="en">' in r.content.decode()
    for label in ("Login ID", "Login password", "Login"):
        assert label in text, label
    # The helpdesk footer, as the leaflet gives it, in English.
    for line in (
        "NetBank Helpdesk",
        "Follow the voice guidance and press 1.",
        "Follow the voice guidance and press 3.",
        "[Weekdays] 9:00–21:00 [Weekends and holidays] 9:00–17:00. Closed all day on 1 January.",
        "Emergency suspension of service",
        "24 hours, 365 days",
        "0120-058-098",
    ):
        assert line in text, line
    assert _japanese_left(r) == []
    # The button offers the way back, and Japanese comes back with it.
    assert 'value="ja"' in r.content.decode()
    client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    r = client.get("/")
    assert "ログインID" in _visible_text(r)
    assert "ヘルプデスク" in _visible_text(r)


def test_english_lock_message_names_the_helpdesk_hours_in_english() -> None:
    from django.utils import translation

    from netbank.customers.messages import helpdesk_line

    with translation.override("en"):
        english = helpdesk_line()
    with translation.override("ja"):
        japanese = helpdesk_line()
    assert "Closed all day on 1 January" in english
    assert not JAPANESE.search(english.replace("☎", ""))
    assert "1月1日は終日、受付けておりません" in japanese


@pytest.fixture
def pc_customer_in_english(frozen_clock: object) -> tuple[Client, Any]:
    customer = screens.make_customer("english01")
    open_account(customer, balance=123_456)
    client = Client(REMOTE_ADDR="198.51.100.201")
    _english(client)
    screens.login(customer, client=client)
    return client, customer


@pytest.mark.parametrize(
    ("url_name", "must_show"),
    [
        ("customers:top", ("Home", "Balances", "Bank transfer", "Applications and settings")),
        ("customers:procedures", ("Applications and settings", "One-time password")),
        ("otp:menu", ("One-time password menu", "Issue token", "Start using one-time passwords")),
        ("otp:issue", ("Issue token (enter)", "Activation password", "Next", "Back")),
        ("banking:balance", ("Balances", "Ordinary deposit", "¥123,456", "Statement")),
        ("banking:furikomi_input", ("Bank transfer (enter)", "(balance ¥123,456)", "Next")),
    ],
)
def test_key_pc_pages_are_in_english(
    pc_customer_in_english: tuple[Client, Any], url_name: str, must_show: tuple[str, ...]
) -> None:
    client, customer = pc_customer_in_english
    r = client.get(reverse(url_name))
    assert r.status_code == 200
    text = _visible_text(r)
    for label in must_show:
        assert label in text, label
    assert "NetBank Helpdesk" in text
    left = _japanese_left(r, customer_data=(customer.name_kanji, customer.name_kana))
    assert left == [], f"Japanese left on {url_name}: {left}"


def test_token_issue_confirm_and_done_in_english_keep_the_mails_japanese_terms(
    pc_customer_in_english: tuple[Client, Any],
) -> None:
    client, _customer = pc_customer_in_english
    r = client.post(reverse("otp:issue"), screens.input_data())
    assert r.status_code == 302
    r = client.get(reverse("otp:issue_confirm"))
    text = _visible_text(r)
    for label in ("Issue token (confirm)", "Transaction password", "Confirm", "Cancel"):
        assert label in text, label
    # The fixed secret question is shown in English too.
    assert "What club or team were you in at junior high school?" in text
    assert _japanese_left(r) == []

    r = client.post(reverse("otp:issue_confirm"), screens.confirm_data())
    assert r.status_code == 302
    r = client.get(reverse("otp:issue_done"))
    text = _visible_text(r)
    assert "Issue token (complete)" in text
    # The token mail is Japanese; the English page names its labels in both languages.
    assert "Service ID (サービスID)" in text
    assert "User ID (ユーザID)" in text
    left = _japanese_left(r, customer_data=("サービスID", "ユーザID"))
    assert left == [], left


def test_sli012_on_a_smartphone_is_in_english(frozen_clock: object) -> None:
    customer = phone.make_customer()
    client = phone.phone_client()
    _english(client)
    phone.phone_login(client, customer)
    r = client.get(reverse("otp:phone_apply"))
    assert r.status_code == 200
    text = _visible_text(r)
    for label in (
        "Apply for one-time passwords",
        "Email address (again)",
        "Activation password (again)",
        "[Additional authentication]",
        "What was the title of the first film you saw?",
        "Confirm",
        "Cancel",
        "Back",
        "Screen ID: SLI012",
    ):
        assert label in text, label
    assert _japanese_left(r) == []
