"""The demo's mail catcher: an SMTP server on loopback that keeps every message as .eml.

Nothing is relayed anywhere. Each message lands in ``<data dir>/mail/`` as one
file, named so that names sort by arrival; the demo's /demo/mail/ page reads them.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from netbank.config.env import data_dir

logger = logging.getLogger(__name__)

# <arrival ns, 19+ digits>-<random>: sortable, and safe to accept back from a URL.
NAME_RE = re.compile(r"[0-9]{20}-[0-9a-f]{8}")
SUFFIX = ".eml"


def mail_dir() -> Path:
    return data_dir() / "mail"


class _Store:
    """Writes each message atomically: a reader never sees half a file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._last_ns = 0

    def _next_name(self) -> str:
        with self._lock:
            # Strictly increasing even if the wall clock steps back.
            stamp = max(time.time_ns(), self._last_ns + 1)
            self._last_ns = stamp
        return f"{stamp:020d}-{secrets.token_hex(4)}"

    def save(self, content: bytes) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = self._next_name()
        tmp = self.folder / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, self.folder / f"{name}{SUFFIX}")
        return name


class _Handler:
    def __init__(self, store: _Store) -> None:
        self.store = store

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        try:
            name = self.store.save(bytes(content))
        except OSError:
            logger.exception("mail catcher: could not store a message")
            return "451 4.3.0 could not store the message"
        logger.info("mail catcher: stored %s%s", name, SUFFIX)
        return "250 2.0.0 OK: stored"


class _Controller(Controller):
    """aiosmtpd's Controller that also works with port 0 (the OS picks a free port)."""

    def _trigger_server(self) -> None:
        sockets = getattr(self.server, "sockets", None)
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        super()._trigger_server()  # type: ignore[no-untyped-call]


class MailCatcher:
    """Start and stop the catcher; ``port`` is the real port once started."""

    def __init__(self, *, folder: Path | None = None, host: str = "127.0.0.1", port: int = 2525):
        self.folder = folder or mail_dir()
        self.host = host
        self.port = port
        self._controller: _Controller | None = None

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the mail catcher is already running")
        self.folder.mkdir(parents=True, exist_ok=True)
        controller = _Controller(
            _Handler(_Store(self.folder)),
            hostname=self.host,
            port=self.port,
            # A fixed name: no DNS look-up for the machine's FQDN at start.
            server_hostname="mailcatcher.localhost",
        )
        controller.start()
        self.port = controller.port
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailCatcher:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --- reading the folder back (the demo mail pages) -----------------------------------


@dataclass(frozen=True)
class CaughtMail:
    name: str
    from_addr: str
    to_addr: str
    subject: str
    date: datetime | None  # the Date header
    received_at: datetime  # when the catcher stored it
    message_id: str
    message: EmailMessage

    def text_body(self) -> str:
        """The plain-text part, decoded (HTML is never rendered by the demo)."""
        part = self.message.get_body(preferencelist=("plain",))
        if part is None:
            return ""
        content = part.get_content()
        return str(content).replace("\r\n", "\n")


def _parse(name: str, raw: bytes) -> CaughtMail:
    msg = message_from_bytes(raw, policy=policy.default)
    date: datetime | None
    try:
        date = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
    except (TypeError, ValueError):
        date = None
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return CaughtMail(
        name=name,
        from_addr=str(msg["From"] or ""),
        to_addr=str(msg["To"] or ""),
        subject=str(msg["Subject"] or ""),
        date=date,
        received_at=datetime.fromtimestamp(int(name.split("-", 1)[0]) / 1e9, tz=UTC),
        message_id=str(msg["Message-ID"] or ""),
        message=msg,
    )


def list_mail(folder: Path, *, limit: int = 200) -> list[CaughtMail]:
    """The newest ``limit`` messages, newest first."""
    if not folder.is_dir():
        return []
    names = sorted(
        (p.name[: -len(SUFFIX)] for p in folder.iterdir() if p.name.endswith(SUFFIX)),
        reverse=True,
    )
    names = [n for n in names if NAME_RE.fullmatch(n)][:limit]
    return [_parse(n, (folder / f"{n}{SUFFIX}").read_bytes()) for n in names]


def read_mail(folder: Path, name: str) -> CaughtMail | None:
    """One message by name; None for a name that is malformed or not there."""
    if not NAME_RE.fullmatch(name):
        return None
    path = folder / f"{name}{SUFFIX}"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return _parse(name, raw)
