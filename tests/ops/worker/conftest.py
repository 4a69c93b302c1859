"""A real SMTP server for the worker's mail job, one that can hold a message in DATA."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.notifications.conftest import RecordingHandler, SmtpServer, free_port


@dataclass
class HoldingHandler(RecordingHandler):
    """Holds the first message in DATA until ``release`` is set (a slow relay)."""

    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if not self.holding.is_set():
            self.holding.set()
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, self.release.wait, 30)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_settings(settings: Any, smtp_port: int) -> Any:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    return settings


@pytest.fixture
def smtp_server(smtp_settings: Any, smtp_port: int) -> Iterator[SmtpServer]:
    server = SmtpServer(smtp_port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def slow_smtp_server(smtp_settings: Any, smtp_port: int) -> Iterator[SmtpServer]:
    server = SmtpServer(smtp_port)
    handler = HoldingHandler()
    server.handler = handler
    server.start()
    try:
        yield server
    finally:
        handler.release.set()
        server.stop()


@pytest.fixture
def checkpoints(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    settings.NETBANK_AUDIT_CHECKPOINT_DIR = str(folder)
    return folder


def checkpoint_lines(folder: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in folder.glob("*.jsonl"))
