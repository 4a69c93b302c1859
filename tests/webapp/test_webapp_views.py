"""The phone app as the bank serves it: shell, manifest, service worker, download page."""

from __future__ import annotations

import json
import re
import shutil
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from netbank.otp.tokens import confinement
from netbank.otp.webapp import views
from netbank.web.middleware import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
PC_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self.style_attr = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if "style" in found or any(name.startswith("on") for name in found):
            self.style_attr = True
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_the_shell_is_public_strict_and_loads_only_the_apps_files() -> None:
    r = Client().get("/app/token/", HTTP_USER_AGENT=IPHONE_UA)
    assert r.status_code == 200
    assert r["Content-Type"] == "text/html; charset=utf-8"
    assert r["Cache-Control"] == "no-cache"
    assert r["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in r["Content-Security-Policy"]
    tags = _parse(r.content.decode())
    assert not tags.inline_script, "no inline script in the shell"
    assert not tags.style_attr, "no style or event-handler attribute in the shell"
    assert all(tag != "style" for tag, _ in tags.tags)
    scripts = [a for tag, a in tags.tags if tag == "script"]
    assert scripts == [{"type": "module", "src": "/static/otp/app/main.js"}]
    links = {a.get("rel"): a.get("href") for tag, a in tags.tags if tag == "link"}
    preload = {
        a.get("href") for tag, a in tags.tags if tag == "link" and a.get("rel") == "modulepreload"
    }
    # What the lock screen needs is fetched at once; the later screens when opened.
    assert {"/static/otp/app/vault.js", "/static/otp/app/screens/unlock.js"} <= preload
    assert "/static/otp/app/screens/sign.js" not in preload
    for href in preload:
        assert (views.APP_DIR / str(href).removeprefix("/static/otp/app/")).is_file(), href
    assert links["manifest"] == "/app/manifest.webmanifest"
    assert links["stylesheet"] == "/static/otp/app/app.css"
    body = next(a for tag, a in tags.tags if tag == "body")
    assert body["data-version"] == views.app_version()
    assert body["data-sw"] == "/app/sw.js"
    assert body["data-scope"] == "/app/"
    assert body["data-helpdesk-phone"] == "0120-058-098"
    # Nothing of a session: the worker may keep this page for everyone on the phone.
    assert "csrftoken" not in r.cookies
    assert "sessionid" not in r.cookies


def test_the_shell_manifest_and_worker_refuse_other_methods() -> None:
    for path in ("/app/token/", "/app/manifest.webmanifest", "/app/sw.js"):
        assert Client().post(path).status_code == 405, path


def _served(url: str, client: Client | None = None) -> int:
    """The status of ``url``; a static file's stream is closed (WhiteNoise streams files)."""
    r = (client or Client()).get(url)
    r.close()
    return r.status_code


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_names_the_app_in_japanese_with_its_icons() -> None:
    r = Client().get("/app/manifest.webmanifest")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/manifest+json; charset=utf-8"
    data = json.loads(r.content)
    assert data["name"] == "ネットバンク ワンタイムパスワード"
    assert data["short_name"] == "ワンタイムパスワード"
    assert data["lang"] == "ja"
    assert data["start_url"] == "/app/token/"
    assert data["scope"] == "/app/"
    assert data["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", data["theme_color"])
    icons = {icon["type"]: icon for icon in data["icons"] if icon["type"] == "image/svg+xml"}
    assert icons["image/svg+xml"]["sizes"] == "any"
    pngs = {icon["sizes"]: icon["src"] for icon in data["icons"] if icon["type"] == "image/png"}
    assert set(pngs) == {"192x192", "512x512"}
    for sizes, src in pngs.items():
        assert _served(src) == 200, src
        file = views.APP_DIR / Path(src).name
        assert _png_size(file) == tuple(int(n) for n in sizes.split("x"))
    assert _served(icons["image/svg+xml"]["src"]) == 200
    assert (views.APP_DIR / "icon.svg").read_text().startswith("<svg")


def _worker(client: Client | None = None) -> tuple[str, str, list[str]]:
    r = (client or Client()).get("/app/sw.js")
    body = r.content.decode()
    version = re.search(r'^const VERSION = "([0-9a-f]+)";$', body, re.M)
    assets = re.search(r"^const ASSETS = (\[.*\]);$", body, re.M)
    assert version, body[:400]
    assert assets, body[:400]
    return body, version.group(1), json.loads(assets.group(1))


def test_the_worker_is_javascript_revalidated_and_scoped_to_the_app() -> None:
    r = Client().get("/app/sw.js")
    assert r.status_code == 200
    assert r["Content-Type"] == "text/javascript; charset=utf-8"
    assert r["Cache-Control"] == "no-cache"
    assert r["Service-Worker-Allowed"] == "/app/"
    assert r["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    body, version, _assets = _worker()
    assert version == views.app_version()
    assert 'const CACHE = "netbank-app-" + VERSION;' in body
    assert "indexedDB" not in body, "the worker must never touch the vault"


def test_the_worker_caches_the_shell_and_every_file_of_the_app_and_each_is_served() -> None:
    _, _, assets = _worker()
    files = {
        "/static/otp/app/" + p.relative_to(views.APP_DIR).as_posix() for p in views.app_files()
    }
    assert {"/app/token/", "/app/manifest.webmanifest", "/app/install.json"} <= set(assets)
    assert files <= set(assets)
    for expected in ("main.js", "messages.js", "clock.js", "app.css", "screens/code.js"):
        assert "/static/otp/app/" + expected in assets
    client = Client()
    for url in assets:
        # install's cache.addAll() fails on any answer but 2xx: every one must be there.
        assert _served(url, client) == 200, url


def test_the_worker_version_changes_whenever_any_file_of_the_app_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "app"
    shutil.copytree(views.APP_DIR, copy)
    monkeypatch.setattr(views, "APP_DIR", copy)
    monkeypatch.setattr(views, "PACKAGE_DIR", tmp_path.parent)
    monkeypatch.setattr(views, "TEMPLATE_FILES", ())
    first = views.app_version()
    assert _worker()[1] == first
    assert views.app_version() == first, "the same files give the same version"
    css = copy / "app.css"
    css.write_text(css.read_text() + "\n/* changed */\n")
    second = views.app_version()
    assert second != first
    assert _worker()[1] == second
    (copy / "screens" / "code.js").write_bytes((copy / "screens" / "code.js").read_bytes() + b" ")
    assert views.app_version() not in (first, second)
    third = views.app_version()
    (copy / "extra.js").write_text("export {};\n")
    assert views.app_version() != third
    assert "/static/otp/app/extra.js" in _worker()[2]
    # An editor's hidden leftover is not part of the app.
    fourth = views.app_version()
    (copy / ".app.css.swp").write_text("x")
    assert views.app_version() == fourth


def test_the_template_of_the_worker_itself_is_part_of_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = tmp_path / "sw.js"
    template.write_text("// one")
    monkeypatch.setattr(views, "PACKAGE_DIR", tmp_path.parent.parent)
    monkeypatch.setattr(views, "APP_DIR", tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    monkeypatch.setattr(views, "TEMPLATE_FILES", (template,))
    first = views.app_version()
    template.write_text("// two")
    assert views.app_version() != first


@pytest.mark.parametrize("name", ["otp:app_shell", "otp:app_manifest", "otp:app_service_worker"])
def test_a_confined_session_may_still_open_the_app(name: str) -> None:
    # OTP mandatory: a logged-in customer without OTP, or the phone's SLI012 session, must
    # be able to open the app that sets OTP up.
    namespace = name.split(":")[0]
    assert confinement.view_allowed(confinement.LOGGED_IN, name, namespace)
    assert confinement.view_allowed(confinement.PHONE, name, namespace)


def test_the_app_opens_when_otp_is_mandatory(settings: object) -> None:
    settings.NETBANK_OTP = {**settings.NETBANK_OTP, "mandatory": True}  # type: ignore[attr-defined]
    client = Client(HTTP_USER_AGENT=IPHONE_UA)
    for path in ("/app/", "/app/token/", "/app/manifest.webmanifest", "/app/sw.js"):
        assert client.get(path).status_code == 200, path


def test_the_lean_api_stack_does_not_take_the_apps_paths() -> None:
    from netbank.config import wsgi_api

    for path in ("/app/token/", "/app/sw.js", "/app/manifest.webmanifest"):
        assert not path.startswith(wsgi_api.API_PREFIX)


@pytest.mark.parametrize("ua", [IPHONE_UA, ANDROID_UA])
def test_on_a_phone_the_download_page_opens_the_app_and_says_how_to_keep_it(ua: str) -> None:
    r = Client().get("/app/", HTTP_USER_AGENT=ua)
    assert r.status_code == 200
    page = r.content.decode()
    assert "ワンタイムパスワードアプリのダウンロード" in page
    assert '<a class="btn btn-app" id="open-app" href="/app/token/">アプリを開く</a>' in page
    assert "「共有」" in page
    assert "「ホーム画面に追加」" in page
    assert "アプリをインストール" in page
    assert "pipx install" not in page
    assert "install.json）をダウンロード" not in page
    assert "User-Agent" in r["Vary"]


def test_on_a_pc_the_download_page_keeps_the_desktop_app_and_the_authenticator() -> None:
    r = Client().get("/app/", HTTP_USER_AGENT=PC_UA)
    page = r.content.decode()
    assert "pipx install netbank-token" in page
    assert "認証アプリで登録" in page
    assert "アプリを開く" not in page
    assert "User-Agent" in r["Vary"]


def test_the_download_page_in_english_on_a_phone() -> None:
    client = Client(HTTP_USER_AGENT=IPHONE_UA)
    client.cookies["django_language"] = "en"
    page = client.get("/app/").content.decode()
    assert "Open the app" in page
    assert "アプリを開く" not in page


def test_a_session_confined_to_setting_otp_up_may_open_the_app(settings: object) -> None:
    from tests.otp.factories import make_customer
    from tests.otp.test_mandatory_otp import MENU, _pc_login

    settings.NETBANK_OTP = {**settings.NETBANK_OTP, "mandatory": True}  # type: ignore[attr-defined]
    client = _pc_login(make_customer())  # no OTP yet: confined to the OTP pages
    assert client.get("/top/", HTTP_USER_AGENT=PC_UA)["Location"] == MENU
    for path in ("/app/", "/app/token/", "/app/manifest.webmanifest", "/app/sw.js"):
        r = client.get(path, HTTP_USER_AGENT=IPHONE_UA)
        assert r.status_code == 200, (path, r.status_code, r.get("Location"))


def test_new_helpdesk_details_are_a_new_version_of_the_cached_shell(settings: object) -> None:
    first = views.app_version()
    helpdesk = settings.NETBANK_HELPDESK  # type: ignore[attr-defined]
    settings.NETBANK_HELPDESK = {**helpdesk, "phone": "0120-000-000"}  # type: ignore[attr-defined]
    assert views.app_version() != first
    assert 'data-helpdesk-phone="0120-000-000"' in Client().get("/app/token/").content.decode()


def test_the_version_is_hashed_again_only_when_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "app"
    shutil.copytree(views.APP_DIR, copy)
    monkeypatch.setattr(views, "APP_DIR", copy)
    monkeypatch.setattr(views, "PACKAGE_DIR", tmp_path.parent)
    monkeypatch.setattr(views, "TEMPLATE_FILES", ())
    hashed = []
    real_hash = views._hash
    monkeypatch.setattr(views, "_hash", lambda *args: hashed.append(1) or real_hash(*args))
    first = views.app_version()
    for _ in range(3):
        assert views.app_version() == first
    assert len(hashed) == 1, "unchanged files are not read again"
    css = copy / "app.css"
    css.write_text(css.read_text() + "\n/* changed */\n")
    assert views.app_version() != first
    assert len(hashed) == 2
