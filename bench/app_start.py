"""The phone app's budget: the size of its JavaScript and CSS, and its start in Chromium.

    .venv/bin/python -m bench.app_start [--throttle 4] [--runs 5] [--json FILE]

A benchmark, not a test (issue 15): it starts the bank on loopback (waitress, a fresh SQLite
database and data folder), opens /app/token/ once in a phone-sized Chromium page so the
service worker installs and a token is stored (PIN 2580, through the app's own vault.js),
then for each run opens a new page with the CPU slowed down ``--throttle`` times (DevTools
``Emulation.setCPUThrottlingRate``) and measures:

- open: from navigation start to the ロック解除 screen (the app from the worker's cache),
- unlock: from pressing ロック解除 to the code on screen (PBKDF2 with 600,000 iterations),
- total: both, i.e. cold start to a visible code less the customer's typing.

Needs Playwright and Chromium (NETBANK_CHROMIUM, default /usr/bin/chromium), as the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[1]
APP_DIR = ROOT / "src" / "netbank" / "otp" / "static" / "otp" / "app"
PYTHON = sys.executable
PIN = "2580"
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CREATE_VAULT = """async (pin) => {
  const v = await import("/static/otp/app/vault.js");
  if (await v.vaultExists()) return true;
  await v.createVault({ seed: crypto.getRandomValues(new Uint8Array(20)),
    signingKey: crypto.getRandomValues(new Uint8Array(32)), algorithm: "SHA1", digits: 6,
    period: 30, serviceId: "100001", userId: "100000000001", bankUrl: location.origin }, pin);
  return v.vaultExists();
}"""


# Times taken inside the page (DevTools scripts are outside the page's CSP), so no
# round trip of the benchmark's own polling is counted.
MARKS = """
window.__marks = {};
new MutationObserver(() => {
  const m = window.__marks, h1 = document.querySelector("h1"), code = document.getElementById("otp-code");
  if (!m.open && h1 && h1.textContent === "ロック解除") m.open = performance.now();
  if (!m.code && code && /^\\d{6}$/.test(code.textContent)) m.code = performance.now();
}).observe(document, { subtree: true, childList: true, characterData: true });
document.addEventListener("click", (e) => {
  if (e.target.closest("main button[type=submit]")) window.__marks.pressed = performance.now();
}, true);
"""


def code_size() -> dict[str, int]:
    return {
        p.relative_to(APP_DIR).as_posix(): p.stat().st_size
        for p in sorted(APP_DIR.rglob("*"))
        if p.suffix in (".js", ".css")
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_bank(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    own = ("NETBANK_", "DJANGO_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    env.update(
        {
            "NETBANK_DATA_DIR": str(folder / "data"),
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "PYTHONPATH": str(ROOT / "src"),
        }
    )
    subprocess.run(
        [PYTHON, "-m", "netbank.cli", "migrate", "--noinput"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "waitress",
            f"--listen=127.0.0.1:{port}",
            "netbank.config.wsgi:application",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            # Our own loopback http:// URL, made above.
            with urllib.request.urlopen(url + "/app/token/", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return server, url
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.terminate()
                raise RuntimeError("the bank did not start") from None
            time.sleep(0.2)


def measure(url: str, runs: int, throttle: float) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("NETBANK_CHROMIUM", "/usr/bin/chromium")
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            base_url=url,
            user_agent=IPHONE_UA,
            viewport={"width": 390, "height": 844},
            device_scale_factor=3,
            is_mobile=True,
            has_touch=True,
            locale="ja-JP",
        )
        first = context.new_page()
        first.goto("/app/token/")
        first.get_by_role("heading", name="初期設定", exact=True).wait_for()
        assert first.evaluate(CREATE_VAULT, PIN)
        while not first.evaluate("() => navigator.serviceWorker.controller !== null"):
            time.sleep(0.1)
        first.close()
        for _ in range(runs):
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            page.add_init_script(MARKS)
            page.goto("/app/token/")
            page.get_by_role("heading", name="ロック解除", exact=True).wait_for()
            page.get_by_label("暗証番号", exact=True).fill(PIN)
            page.get_by_role("button", name="ロック解除", exact=True).click()
            _wait_code(page)
            marks = page.evaluate("() => window.__marks")
            opened, pressed, shown = marks["open"], marks["pressed"], marks["code"]
            results.append(
                {
                    "open_ms": round(opened, 1),
                    "unlock_ms": round(shown - pressed, 1),
                    "total_ms": round(opened + shown - pressed, 1),
                }
            )
            page.close()
        browser.close()
    return results


def _wait_code(page: Page) -> None:
    # Polled from here: wait_for_function evaluates a string, which the bank's CSP forbids.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = page.evaluate("() => document.getElementById('otp-code')?.textContent || ''")
        if len(text) == 6 and text.isdigit():
            return
        time.sleep(0.01)
    raise RuntimeError("no code on screen")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throttle", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    opts = parser.parse_args(argv)
    sizes = code_size()
    total = sum(sizes.values())
    print(f"JavaScript + CSS: {total} bytes ({total / 1024:.1f} KB) in {len(sizes)} files")
    for name, size in sorted(sizes.items(), key=lambda x: -x[1]):
        print(f"  {size:6d}  {name}")
    with tempfile.TemporaryDirectory(prefix="netbank-app-bench-") as tmp:
        server, url = start_bank(Path(tmp))
        try:
            runs = measure(url, opts.runs, opts.throttle)
        finally:
            server.terminate()
            server.wait(10)
    print(f"CPU throttled {opts.throttle:g}x, {len(runs)} runs (median):")
    for key in ("open_ms", "unlock_ms", "total_ms"):
        values = [r[key] for r in runs]
        print(
            f"  {key:10s} {statistics.median(values):8.1f}  (min {min(values)}, max {max(values)})"
        )
    if opts.json:
        opts.json.write_text(
            json.dumps({"bytes": total, "files": sizes, "throttle": opts.throttle, "runs": runs})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
