"""The Directログイン page the app writes for the browser (token_app.launch)."""

from __future__ import annotations

import base64
import hashlib
import html as html_module
import os
import re
import stat
import time
from pathlib import Path

import pytest

from netbank.token_app import launch

POST_URL = "https://bank.example.jp/login/direct/open/"
TICKET = "Yb2mUq4yA0n9p8cZp3N8o6i0Qd6j4WkVbq1yS8nX3tE"


def test_page_posts_the_ticket_to_the_bank_under_its_own_csp(launch_dir: Path) -> None:
    page = launch.page_write(POST_URL, TICKET)

    assert page.parent == launch_dir
    assert TICKET not in page.name  # the path the browser is given holds no secret
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert stat.S_IMODE(launch_dir.stat().st_mode) == 0o700
    html = page.read_text()
    assert f'<form id="direct-login" method="post" action="{POST_URL}">' in html
    assert f'<input type="hidden" name="t" value="{TICKET}">' in html
    assert "<noscript>" in html
    assert '<button type="submit">' in html
    # The page's CSP allows exactly its own script (by hash) and a form to the bank.
    found = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert found is not None
    csp = html_module.unescape(found[1])  # as the browser reads the attribute
    script = re.search(r"<script>(.*)</script>", html)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script[1].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert "form-action https://bank.example.jp;" in csp
    assert "default-src 'none'" in csp


def test_markup_in_the_answer_cannot_break_out_of_the_page(launch_dir: Path) -> None:
    html = launch.page_html('https://bank.example.jp/"><script>x()</script>', "a<b")
    assert "<script>x()" not in html
    assert 'value="a&lt;b"' in html


def test_a_folder_that_is_a_link_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "launch-link"
    link.symlink_to(target)
    monkeypatch.setenv("NETBANK_TOKEN_LAUNCH_DIR", str(link))
    with pytest.raises(launch.LaunchPageError):
        launch.page_write(POST_URL, TICKET)
    assert list(target.iterdir()) == []


def test_a_widened_folder_of_ours_is_tightened(launch_dir: Path) -> None:
    launch_dir.mkdir(mode=0o755)
    os.chmod(launch_dir, 0o755)  # noqa: S103 - widened on purpose, to see it tightened
    launch.page_write(POST_URL, TICKET)
    assert stat.S_IMODE(launch_dir.stat().st_mode) == 0o700


def test_default_folder_is_the_runtime_folder_or_a_per_user_temporary_one(
    tmp_path: Path,
) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    assert launch.launch_dir({"XDG_RUNTIME_DIR": str(runtime)}) == runtime / "netbank-token"
    fallback = launch.launch_dir({})
    assert fallback.name == f"netbank-token-{os.getuid()}"


def test_stale_pages_are_removed_and_fresh_ones_kept(launch_dir: Path) -> None:
    fresh = launch.page_write(POST_URL, TICKET)
    stale = launch.page_write(POST_URL, TICKET)
    other = launch_dir / "notes.txt"
    other.write_text("not ours")
    old = time.time() - launch.PAGE_MAX_AGE_SECONDS - 1
    os.utime(stale, (old, old))
    os.utime(other, (old, old))

    assert launch.pages_remove_stale() == 1

    assert fresh.exists()
    assert not stale.exists()
    assert other.exists()


def test_a_page_no_browser_opened_is_deleted_at_once(launch_dir: Path) -> None:
    opened: list[str] = []
    assert launch.open_ticket_page(POST_URL, TICKET, lambda url: False) is None
    assert list(launch_dir.iterdir()) == []
    page = launch.open_ticket_page(POST_URL, TICKET, lambda url: opened.append(url) or True)
    assert page is not None
    assert opened == [page.as_uri()]
