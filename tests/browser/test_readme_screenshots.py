"""The README's screenshots of the login page, taken from the live page in Chromium.

Every run renders the login page on a PC and on an iPhone and keeps the pictures in
test-artifacts/screenshots/. With NETBANK_UPDATE_DOCS_IMG=1 the same pictures
replace docs/img/login-pc.png and docs/img/login-phone.png (committed: the README
shows them):

    NETBANK_UPDATE_DOCS_IMG=1 ./bin/test tests/browser/test_readme_screenshots.py

Without it the test checks that the committed pictures exist, have the size this
test produces and stay small enough for a README.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser import support

pytestmark = pytest.mark.browser

MAX_BYTES = 200 * 1024

# The phone picture uses 2x pixels instead of the iPhone's 3x: sharp on a README,
# a third of the bytes.
DOC_SHOTS = {
    "pc": {"file": "login-pc.png", "overrides": {}, "size": (1366, 900)},
    "phone": {"file": "login-phone.png", "overrides": {"device_scale_factor": 2}, "size": None},
}


def has_japanese_font() -> bool:
    """The stylesheet's first choice for Japanese, as fontconfig resolves it for Chromium."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return False
    found = subprocess.run(
        [fc_match, "--format=%{family}", "Noto Sans CJK JP"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return "Noto Sans CJK JP" in found.stdout


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("label", ["pc", "phone"])
def test_readme_screenshot_of_the_login_page(
    browser: Browser, live_server: LiveServer, label: str
) -> None:
    updating = os.environ.get("NETBANK_UPDATE_DOCS_IMG") == "1"
    if not has_japanese_font():
        message = "no Noto Sans CJK JP: install fonts-noto-cjk (Japanese would render as boxes)"
        if updating:
            pytest.fail(message)
        pytest.skip(message)
    spec = DOC_SHOTS[label]
    options = {**support.VIEWPORTS[label], **spec["overrides"]}  # type: ignore[dict-item]
    context = browser.new_context(
        base_url=live_server.url,
        locale=support.LOCALE,
        timezone_id=support.TIMEZONE,
        color_scheme="light",
        **options,
    )
    try:
        page = support.new_watched_page(context, label)
        page.goto("/")
        expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
        page.evaluate("document.fonts.ready.then(() => true)")
        support.ARTIFACTS.mkdir(parents=True, exist_ok=True)
        artifact = support.ARTIFACTS / f"readme-{spec['file']}"
        page.screenshot(path=str(artifact), full_page=True)
        problems = support.watch_of(page).problems()
        support.forget_page(page)
    finally:
        context.close()
    assert problems == []

    target = support.DOCS_IMG / str(spec["file"])
    if updating:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(artifact.read_bytes())

    assert target.exists(), f"{target} missing: run with NETBANK_UPDATE_DOCS_IMG=1"
    assert target.stat().st_size < MAX_BYTES, f"{target} is over {MAX_BYTES} bytes"
    width, height = png_size(target)
    expected_width = (
        support.VIEWPORTS[label]["viewport"]["width"] * options.get("device_scale_factor", 1)  # type: ignore[operator]
    )
    assert width == expected_width
    assert height >= (spec["size"] or (0, 0))[1]
