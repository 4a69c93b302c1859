"""The phone app's budget: its JS+CSS bytes, and its cold start on a slow phone.

Usage:
    .venv/bin/python bench/webapp_budget.py [--runs 7] [--throttle 4] [--json out.json]

Prints, asserts nothing about time (a benchmark, not a test; the phone app's budget is
"JS+CSS below 100 KB uncompressed, cold start to a visible code below 1 s with 4x CPU
throttling", docs/performance.md reads the numbers):

1. **Bytes**: every .js and .css file of the app (src/netbank/otp/static/otp/app/ and the
   service worker), uncompressed, and gzip -9 per file for information (what a server
   that compresses would send). Also what the browser actually loaded for the first
   screen (Resource Timing, decoded sizes), as a cross-check that nothing else is pulled.
2. **Cold start**, in Debian's Chromium through Playwright, on Playwright's "iPhone 13"
   descriptor with the CPU slowed by CDP ``Emulation.setCPUThrottlingRate``:
   a scratch database and a live server (Django's own test server thread, static files
   from the finders), a customer and a token issued by the real service, the app set up
   through its screens (初期設定, PIN), then ``--runs`` times a new tab opens
   /app/token/ (service worker and IndexedDB in place, as on the customer's phone):
   * navigation start → the lock screen (h1 「ロック解除」) on screen;
   * the PIN submitted → ``#otp-code`` showing digits (PBKDF2 600,000 + AES-GCM unwrap);
   * the sum: navigation → code, less the time a person takes to type the PIN.
   Marks are taken inside the page (a MutationObserver injected before the app's
   scripts, the time read after the next animation frame), so Playwright's own round
   trips are not counted. Also once: a first visit (fresh profile, no service worker,
   empty cache) → the 初期設定 screen.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

APP_DIR = ROOT / "src" / "netbank" / "otp" / "static" / "otp" / "app"
ACTIVATION_PASSWORD = "482913"  # noqa: S105 - a scratch token's, in a scratch database
PIN = "25801470"

# Injected before any script of the page (CDP init script; CSP does not govern it).
MARKS = """
(() => {
  const marks = {};
  window.__appMarks = marks;
  const afterFrame = (name) => requestAnimationFrame(() => {
    if (!(name in marks)) marks[name] = performance.now();
  });
  const look = () => {
    const h1 = document.querySelector("h1");
    const title = h1 ? h1.textContent.trim() : "";
    if (title === "ロック解除" && !marks.lockSeen) { marks.lockSeen = 1; afterFrame("lock"); }
    if (title === "初期設定" && !marks.setupSeen) { marks.setupSeen = 1; afterFrame("setup"); }
    const code = document.getElementById("otp-code");
    if (code && /\\d{6}/.test(code.textContent.replace(/\\D/g, "")) && !marks.codeSeen) {
      marks.codeSeen = 1; afterFrame("code");
    }
  };
  new MutationObserver(look).observe(document, {subtree: true, childList: true, characterData: true});
  const submitted = () => { if (!("submit" in marks)) marks.submit = performance.now(); };
  document.addEventListener("submit", submitted, true);
  document.addEventListener("click", (e) => {
    const b = e.target.closest && e.target.closest("button");
    if (b && b.textContent.trim() === "ロック解除") submitted();
  }, true);
})();
"""


def app_files() -> list[Path]:
    files = sorted(p for p in APP_DIR.rglob("*") if p.suffix in {".js", ".css"})
    # The service worker may be a template rendered at /app/sw.js.
    files += sorted(
        p for p in (ROOT / "src" / "netbank" / "otp").rglob("sw.js") if APP_DIR not in p.parents
    )
    return files


def bytes_report() -> dict[str, Any]:
    files = app_files()
    rows = []
    for path in files:
        data = path.read_bytes()
        rows.append((str(path.relative_to(ROOT)), len(data), len(gzip.compress(data, 9))))
    js = sum(n for name, n, _ in rows if name.endswith(".js"))
    css = sum(n for name, n, _ in rows if name.endswith(".css"))
    worker = sum(n for name, n, _ in rows if name.endswith("sw.js") and "/static/" not in name)
    return {
        "files": rows,
        "js_bytes": js,
        "css_bytes": css,
        "total_bytes": js + css,
        "static_bytes": js + css - worker,  # what tests/webapp's budget test counts
        "worker_bytes": worker,
        "total_gzip_bytes": sum(g for _, _, g in rows),
    }


def start_server(data_dir: Path) -> Any:
    """A scratch SQLite database in ``data_dir`` and Django's live-server thread."""
    os.environ["NETBANK_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netbank.config.test_settings")
    import django

    django.setup()
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.test.testcases import LiveServerThread

    call_command("migrate", verbosity=0)
    server = LiveServerThread("localhost", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    return server


def issue_token() -> tuple[str, str]:
    """A customer and a token waiting for its app, through the real services."""
    from django.conf import settings

    from netbank.customers.services import customer_create
    from netbank.otp.tokens.services import token_issue

    customer = customer_create(
        login_id="bench0001",
        name_kanji="山田 太郎",
        name_kana="ヤマダ タロウ",
        email="taro@example.jp",
        password="Bench-pass-2026",  # noqa: S106 - a scratch customer
        transaction_password="Kakunin-77",  # noqa: S106
        questions=[("中学校の時の部活動は何ですか？", "サッカー部")],
    )
    token = token_issue(
        customer=customer,
        email="taro.phone@mobile.example.jp",
        activation_password=ACTIVATION_PASSWORD,
        ip="127.0.0.1",
        smartphone=True,
    )
    return str(settings.NETBANK_OTP["service_id"]), token.user_id


def say(text: str) -> None:
    """Progress on stderr (stdout is the figures)."""
    print(text, file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def measure(base_url: str, runs: int, throttle: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright
    from tests.browser import app_support as app
    from tests.browser import support

    service_id, user_id = issue_token()
    results: dict[str, Any] = {"runs": runs, "throttle": throttle}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=support.CHROMIUM, headless=True, args=support.CHROMIUM_ARGS
        )
        device = dict(pw.devices["iPhone 13"])
        device.pop("default_browser_type", None)

        def new_context() -> Any:
            context = browser.new_context(
                base_url=base_url, locale=support.LOCALE, timezone_id=support.TIMEZONE, **device
            )
            context.set_default_timeout(60_000)
            context.add_init_script(MARKS)
            return context

        def throttled_page(context: Any) -> Any:
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            return page

        def loaded_files(page: Any) -> list[list[Any]]:
            """The JS and CSS the page has loaded so far (decoded sizes)."""
            files: list[list[Any]] = page.evaluate(
                """() => performance.getEntriesByType("resource")
                     .filter((e) => /\\.(js|css)(\\?|$)/.test(e.name))
                     .map((e) => [new URL(e.name).pathname, e.decodedBodySize])"""
            )
            return files

        def marks(page: Any, name: str) -> float:
            page.wait_for_function(f"() => window.__appMarks && '{name}' in window.__appMarks")
            return float(page.evaluate(f"window.__appMarks['{name}']"))

        # A first visit: nothing cached, no service worker yet.
        say("first visit")
        context = new_context()
        page = throttled_page(context)
        page.goto(app.APP_URL, wait_until="commit")
        results["first_visit_setup_ms"] = marks(page, "setup")
        results["loaded_first_screen"] = loaded_files(page)
        # Set up through the screens (not timed), then wait for the service worker.
        say("setting up the app")
        page.close()
        page = context.new_page()
        page.goto(app.APP_URL)
        app.set_up(page, service_id, user_id, ACTIVATION_PASSWORD)
        app.app_lock_and_pin(page, PIN)
        app.shown_code(page)
        app.sw_ready(page)
        page.close()

        lock, unlock, total = [], [], []
        for run in range(runs):
            say(f"run {run + 1}/{runs}")
            page = throttled_page(context)
            page.goto(app.APP_URL, wait_until="commit")
            t_lock = marks(page, "lock")
            results.setdefault("loaded_lock_screen", loaded_files(page))
            page.get_by_label("暗証番号", exact=True).fill(PIN)
            app.button(page, "ロック解除").click()
            t_code = marks(page, "code")
            t_submit = marks(page, "submit")
            lock.append(t_lock)
            unlock.append(t_code - t_submit)
            total.append(t_lock + t_code - t_submit)
            page.close()
        context.close()
        browser.close()
    results.update(
        lock_ms=lock,
        unlock_ms=unlock,
        total_ms=total,
        lock_median_ms=median(lock),
        unlock_median_ms=median(unlock),
        total_median_ms=median(total),
        chromium=support.CHROMIUM,
    )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--throttle", type=float, default=4.0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--bytes-only", action="store_true", help="skip the browser")
    args = parser.parse_args(argv)

    sizes = bytes_report()
    print("The app's files (uncompressed / gzip -9):")
    for name, size, gz in sizes["files"]:
        print(f"  {name:60} {size:8,} B {gz:8,} B")
    print(
        f"JS {sizes['js_bytes']:,} B + CSS {sizes['css_bytes']:,} B = "
        f"{sizes['total_bytes']:,} B ({sizes['total_bytes'] / 1024:.1f} KiB); "
        f"gzip {sizes['total_gzip_bytes']:,} B (budget: 100 KB uncompressed)"
    )
    print(
        f"  of which the modules and CSS under static/otp/app/ {sizes['static_bytes']:,} B, "
        f"the service worker (a template) {sizes['worker_bytes']:,} B"
    )
    report: dict[str, Any] = {"bytes": sizes}
    if not args.bytes_only:
        with tempfile.TemporaryDirectory(prefix="nb-webapp-bench-") as tmp:
            server = start_server(Path(tmp))
            try:
                timing = measure(f"http://localhost:{server.port}", args.runs, args.throttle)
            finally:
                server.terminate()
        report["timing"] = timing
        for key, text in (
            ("loaded_first_screen", "初期設定"),
            ("loaded_lock_screen", "ロック解除"),
        ):
            files = timing[key]
            total = sum(int(n) for _, n in files)
            print(f"Loaded up to {text}: {len(files)} files, {total:,} B")
        print(f"Chromium, iPhone 13, CPU throttled {args.throttle:g}x, {args.runs} runs (ms):")
        print(f"  first visit → 初期設定 shown          {timing['first_visit_setup_ms']:8.0f}")
        for key, text in (
            ("lock", "navigation → ロック解除 shown"),
            ("unlock", "PIN submitted → code shown"),
            ("total", "navigation → code (less typing)"),
        ):
            values = timing[f"{key}_ms"]
            print(
                f"  {text:36} median {median(values):6.0f}  "
                f"min {min(values):6.0f}  max {max(values):6.0f}"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
