"""The README's demo credentials and tour match what the demo seeds and prints."""

from __future__ import annotations

import re
from pathlib import Path

from netbank.demo.seed import DEMO_CUSTOMERS, DEMO_OPERATORS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")


def _rows() -> list[str]:
    return [line for line in README.splitlines() if line.startswith("|")]


def test_the_two_setup_commands_are_the_only_ones() -> None:
    commands = [line.strip() for line in README.splitlines() if line.startswith("    ./")]
    assert commands == ["./bin/demo", "./bin/test"]
    for script in ("bin/demo", "bin/test"):
        assert (ROOT / script).stat().st_mode & 0o111


def test_customer_credentials_match_the_seed() -> None:
    rows = _rows()
    for demo in DEMO_CUSTOMERS:
        row = next(r for r in rows if f"`{demo.login_id}` | `{demo.password}`" in r)
        assert f"`{demo.transaction_password}`" in row
        assert demo.name_kanji in row
        assert ("利用中" if demo.otp_in_use else "未設定") in row
        questions = next(r for r in rows if r.startswith(f"| `{demo.login_id}` | 中学校"))
        for question, answer in demo.questions:
            assert question in questions
            assert answer in questions


def test_operator_credentials_match_the_seed() -> None:
    rows = _rows()
    for demo in DEMO_OPERATORS:
        row = next(r for r in rows if r.startswith(f"| `{demo.username}` |"))
        assert f"`{demo.password}`" in row
        assert demo.role in row


def test_every_picture_and_document_linked_exists() -> None:
    targets = re.findall(r'src="([^"]+)"', README) + re.findall(r"\]\((docs/[^)]+)\)", README)
    assert targets
    for target in targets:
        assert (ROOT / target).is_file(), target
    tour = {p.name for p in (ROOT / "docs" / "img").glob("tour-*.png")}
    assert tour
    assert tour <= {Path(t).name for t in targets}  # no tour picture left out


def test_the_demo_urls_are_localhost_where_passkeys_work() -> None:
    """Browsers refuse an IP address as a passkey's relying party: the README sends
    visitors to the name the demo prints, and says where passkeys are."""
    assert "http://127.0.0.1:8000" not in README
    for path in ("/", "/demo/mail/", "/helpdesk/"):
        assert f"http://localhost:8000{path}" in README
    assert "各種お申込・手続き → パスキー" in README
    assert "passkey challenges" in README
