"""Handing the Directログイン ticket to the browser without exposing it.

A browser started with the bank's URL carries that URL in its argv, which every local
user can read in the process list while it runs, and a URL's query string lands in the
access logs of every proxy on the way. So the app writes a small local page instead: an
owner-only file (0600) in an owner-only folder (0700) holding a form that posts the
ticket to the bank (``POST /login/direct/open/``), submitted by its own script or, with
scripts off, by the customer's click. The browser is started on the file's path, which
holds no secret.

The page is useless once the ticket has expired (≤ 60 s). Each later run of the app
deletes the pages older than that (``pages_remove_stale``); the terminal UI also deletes
its page when that time is up. The folder is ``$XDG_RUNTIME_DIR/netbank-token`` (a tmpfs
emptied at logout) where there is one, else ``netbank-token-<uid>`` in the system's
temporary folder; ``$NETBANK_TOKEN_LAUNCH_DIR`` names another.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import os
import secrets
import stat
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netbank.token_app.client import DirectLoginLink

# A ticket lives at most 60 s at the bank; a page older than that has no use.
PAGE_MAX_AGE_SECONDS = 60.0
PAGE_PREFIX = "direct-login-"
PAGE_SUFFIX = ".html"
DIR_NAME = "netbank-token"

# The script only submits the form; it is pinned by hash in the page's own CSP.
_SCRIPT = 'document.getElementById("direct-login").submit();'


class LaunchPageError(Exception):
    """The private folder for the page cannot be made or trusted."""


def launch_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    explicit = env.get("NETBANK_TOKEN_LAUNCH_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    runtime = env.get("XDG_RUNTIME_DIR", "").strip()
    if runtime and Path(runtime).is_absolute() and Path(runtime).is_dir():
        return Path(runtime) / DIR_NAME
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"{DIR_NAME}-{uid}"


def _private_dir(folder: Path) -> Path:
    """``folder``, made 0700 if missing; refused unless it is ours, a real folder, 0700.

    In a shared temporary folder another user could have made it first, to read or
    swap the page: nothing is written into a folder anyone else controls.
    """
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError as exc:
        raise LaunchPageError(f"cannot make {folder}: {exc}") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise LaunchPageError(f"{folder} is not a folder")
    if os.name == "posix":
        if info.st_uid != os.getuid():
            raise LaunchPageError(f"{folder} belongs to another user")
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(folder, 0o700)  # ours, made with a wide umask or widened: tighten it
    return folder


def page_html(post_url: str, ticket: str) -> str:
    """The page: a form with the ticket in a hidden field, posted by its own script."""
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    action = html.escape(post_url, quote=True)
    origin = "/".join(post_url.split("/", 3)[:3])  # scheme://host[:port]
    # The bank's CSP covers the bank's pages, not this file: the page brings its own,
    # allowing its one script and a form to the bank and nothing else.
    csp = (
        f"default-src 'none'; script-src 'sha256-{script_hash}'; "
        f"style-src 'unsafe-inline'; form-action {origin}; base-uri 'none'"
    )
    return f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{html.escape(csp, quote=True)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Directログイン</title>
</head>
<body>
<form id="direct-login" method="post" action="{action}">
<input type="hidden" name="t" value="{html.escape(ticket, quote=True)}">
<p>ネットバンクを開いています…<br>Opening the bank…</p>
<noscript><p>下のボタンを押してください。<br>Press the button below.</p></noscript>
<button type="submit">ネットバンクを開く / Open the bank</button>
</form>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def page_write(post_url: str, ticket: str, *, environ: Mapping[str, str] | None = None) -> Path:
    """Write a fresh page (0600, never following a link) and return its path."""
    folder = _private_dir(launch_dir(environ))
    pages_remove_stale(folder)
    path = folder / f"{PAGE_PREFIX}{secrets.token_hex(8)}{PAGE_SUFFIX}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise LaunchPageError(f"cannot write {path}: {exc}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(page_html(post_url, ticket))
    return path


def page_remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def pages_remove_stale(
    folder: Path | None = None,
    *,
    max_age: float = PAGE_MAX_AGE_SECONDS,
    now: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Delete this app's pages older than ``max_age`` seconds; how many went."""
    folder = folder or launch_dir(environ)
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0  # no folder yet: nothing to clean
    for entry in entries:
        if not (entry.name.startswith(PAGE_PREFIX) and entry.name.endswith(PAGE_SUFFIX)):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < max_age:
                continue
            os.unlink(entry.path)
            removed += 1
        except OSError:
            continue
    return removed


def open_ticket_page(
    post_url: str,
    ticket: str,
    open_browser: Callable[[str], bool],
    *,
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """Write the page and open the browser on it; the page's path, or None if no browser
    opened it (the page is then deleted at once)."""
    path = page_write(post_url, ticket, environ=environ)
    if open_browser(path.as_uri()):
        return path
    page_remove(path)
    return None


def open_in_browser(url: str) -> bool:
    """Open ``url`` in the customer's browser; False where there is none (a server, SSH)."""
    import webbrowser

    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    try:
        return bool(browser.open(url))
    except Exception:  # a broken browser command is the same as none: show the URL instead
        return False


def open_login_link(
    link: DirectLoginLink, open_browser: Callable[[str], bool], environ: Mapping[str, str]
) -> bool:
    """Open a Directログイン in the browser through the app's local page (``launch``).

    The browser's command line gets the page's file:// path, never the ticket. False,
    so the caller shows the GET URL instead, where no browser opened, the private page
    could not be written, or an older bank sent no POST form: starting a browser on
    the GET URL would put the ticket in its argv.
    """
    if not link.post_url or not link.ticket:
        return False
    try:
        return (
            open_ticket_page(link.post_url, link.ticket, open_browser, environ=environ) is not None
        )
    except LaunchPageError:
        return False
