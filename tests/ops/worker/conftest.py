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

from tests.notifications import conftest as mail_fixtures
from tests.notifications.conftest import RecordingHandler, SmtpServer

# The notifications tests' SMTP server fixtures, shared: a fixture named in a conftest is one.
smtp_port = mail_fixtures.smtp_port
smtp_settings = mail_fixtures.smtp_settings
smtp_down = mail_fixtures.smtp_down
smtp_server = mail_fixtures.smtp_server


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
def slow_smtp_server(smtp_down: SmtpServer) -> Iterator[SmtpServer]:
    """The SMTP server, up, holding the first message in DATA until the test ends."""
    handler = HoldingHandler()
    smtp_down.handler = handler
    smtp_down.start()
    try:
        yield smtp_down
    finally:
        handler.release.set()  # before smtp_down's teardown stops the server


@pytest.fixture
def checkpoints(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    settings.NETBANK_AUDIT_CHECKPOINT_DIR = str(folder)
    return folder


def checkpoint_lines(folder: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in folder.glob("*.jsonl"))
