"""The phone app (a Progressive Web App) as the bank serves it: shell, manifest, worker.

The app itself is static ES modules and CSS under ``static/otp/app/`` (docs/token-app.md).
These views add what a browser needs to install it and open it offline:

- ``/app/token/``: the shell page, one ``<main>`` the modules fill. No inline script or
  style (the bank's CSP). It carries no customer data and does not depend on the session
  or the language (the app chooses its language itself), so the service worker can keep it.
- ``/app/manifest.webmanifest``: name, icons, start URL and scope for "add to home screen".
- ``/app/sw.js``: the service worker. Its cache name carries a hash of every file of the app
  (modules, CSS, icons, the shell and the worker's own template), so any change to them
  makes a new worker, which caches the new files and deletes the old caches.

All three are public: the customer opens them before any login, from the token mail.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

PACKAGE_DIR = Path(__file__).resolve().parent.parent
# The app's static files; read at each call so a test can point it at a copy.
APP_DIR = PACKAGE_DIR / "static" / "otp" / "app"
STATIC_PREFIX = "otp/app/"
# Templates whose text is part of the app as cached: a change to them is a new version.
TEMPLATE_FILES = (
    PACKAGE_DIR / "templates" / "otp" / "webapp" / "shell.html",
    PACKAGE_DIR / "templates" / "otp" / "webapp" / "sw.js",
)
# Loaded when first opened: Directログイン, 取引認証 and 設定 from the code screen, 初期設定 only
# on a phone without a token (and what only they import).
LAZY_MODULES = frozenset(
    {
        "screens/login.js",
        "screens/sign.js",
        "screens/settings.js",
        "screens/setup.js",
        "activation.js",
        "question.js",
        "txsign.js",
    }
)
THEME_COLOUR = "#0b5d3b"
BACKGROUND_COLOUR = "#ffffff"


def app_files() -> list[Path]:
    """Every file of the app (no hidden files, no editor leftovers), in a stable order."""
    root = APP_DIR
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


# The last version computed, with the file stamps it was computed from: a request to the shell
# or the worker then costs a stat of each file, not a read and hash of ~100 KB.
_version_cache: tuple[tuple[object, ...], str] | None = None


def _stamps(paths: list[Path], details: str) -> tuple[object, ...]:
    """What identifies the files' contents without reading them: name, size, mtime."""
    stamps: list[object] = [details]
    for path in paths:
        info = path.stat()
        stamps.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(stamps)


def app_version() -> str:
    """A hash of the app's files and templates, and of the bank's details the shell carries
    (the worker serves its cached shell first): changes whenever any of them changes."""
    global _version_cache
    bank = [settings.NETBANK_BANK_NAME, settings.NETBANK_BANK_NAME_EN, settings.NETBANK_HELPDESK]
    details = json.dumps(bank, sort_keys=True, ensure_ascii=False)
    paths = [*app_files(), *TEMPLATE_FILES]
    stamps = _stamps(paths, details)
    cached = _version_cache
    if cached is not None and cached[0] == stamps:
        return cached[1]
    version = _hash(paths, details)
    _version_cache = (stamps, version)
    return version


def _hash(paths: list[Path], details: str) -> str:
    digest = hashlib.sha256()
    digest.update(details.encode())
    for path in paths:
        name = path.relative_to(PACKAGE_DIR).as_posix().encode()
        data = path.read_bytes()
        # Length-prefixed so that moving bytes between name and content changes the hash.
        digest.update(len(name).to_bytes(4, "big") + name + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()[:16]


def asset_urls() -> list[str]:
    """What the worker caches at install: the shell, the manifest, install.json, each file."""
    files = [static(STATIC_PREFIX + path.relative_to(APP_DIR).as_posix()) for path in app_files()]
    return [
        reverse("otp:app_shell"),
        reverse("otp:app_manifest"),
        reverse("otp:app_install_config"),
        *files,
    ]


def _no_cache(response: HttpResponse) -> HttpResponse:
    # Revalidated each time, so a new version reaches the browser at once; the worker keeps
    # its own copy for offline use.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def shell_view(request: HttpRequest) -> HttpResponse:
    helpdesk = settings.NETBANK_HELPDESK
    context = {
        "version": app_version(),
        "main_js": static(STATIC_PREFIX + "main.js"),
        # Every module the first screen needs, fetched at once rather than one import level
        # after another (the screens opened from the code screen load when asked for).
        "preload": [
            static(STATIC_PREFIX + name)
            for name in (p.relative_to(APP_DIR).as_posix() for p in app_files())
            if name.endswith(".js") and name != "main.js" and name not in LAZY_MODULES
        ],
        "css": static(STATIC_PREFIX + "app.css"),
        "icon_svg": static(STATIC_PREFIX + "icon.svg"),
        "icon_192": static(STATIC_PREFIX + "icon-192.png"),
        "theme_colour": THEME_COLOUR,
        "bank_name": settings.NETBANK_BANK_NAME,
        "bank_name_en": settings.NETBANK_BANK_NAME_EN,
        "helpdesk": helpdesk,
    }
    return _no_cache(render(request, "otp/webapp/shell.html", context))


def manifest() -> dict[str, object]:
    icon = STATIC_PREFIX + "icon"
    return {
        "name": "ネットバンク ワンタイムパスワード",
        "short_name": "ワンタイムパスワード",
        "description": "ネットバンクのワンタイムパスワードアプリ（トークンアプリ）",
        "lang": "ja",
        "dir": "ltr",
        "id": reverse("otp:app_shell"),
        "start_url": reverse("otp:app_shell"),
        "scope": reverse("otp:app_download"),
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": static(icon + ".svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static(icon + "-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static(icon + "-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    }


@require_GET
def manifest_view(request: HttpRequest) -> HttpResponse:
    body = json.dumps(manifest(), ensure_ascii=False, indent=2)
    return _no_cache(HttpResponse(body, content_type="application/manifest+json; charset=utf-8"))


@require_GET
def service_worker_view(request: HttpRequest) -> HttpResponse:
    version = app_version()
    script = render_to_string(
        "otp/webapp/sw.js",
        {
            # JSON inside JavaScript: paths and a hex digest only, nothing a customer typed.
            "version_json": json.dumps(version),
            "assets_json": json.dumps(asset_urls()),
            "shell_json": json.dumps(reverse("otp:app_shell")),
            "config_json": json.dumps(reverse("otp:app_install_config")),
        },
    )
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("otp:app_download")
    return _no_cache(response)
