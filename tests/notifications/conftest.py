"""A real SMTP server (aiosmtpd) on a loopback port, and settings that point at it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """A loopback port with nothing listening on it (the OS picked it a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class RecordingHandler:
    """Records every message whose data reached the server.

    ``mode`` makes the server behave like a real one having a bad day:
    ``accept`` (250), ``tempfail`` (451 after DATA), ``reject_rcpt`` (550 at RCPT),
    ``drop_after_data`` (takes the whole message, then the connection breaks
    before the answer, so the client cannot know whether it was accepted).
    """

    mode: str = "accept"
    received: list[Received] = field(default_factory=list)  # data reached the server
    accepted: list[Received] = field(default_factory=list)  # answered 250
    arrived: threading.Event = field(default_factory=threading.Event)
    # gate=n holds the first messages until n of them are in the server at once,
    # which proves n clients were sending concurrently (gate_met says it happened).
    gate: int = 0
    gate_met: bool = False
    _in_flight: int = 0
    _gate_open: asyncio.Event | None = None

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.mode == "reject_rcpt":
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.gate and not self.gate_met:
            await self._wait_at_gate()
        data = envelope.original_content or b""
        item = Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(data))
        self.received.append(item)
        if self.mode == "tempfail":
            return "451 4.3.0 try again later"
        if self.mode == "drop_after_data":
            assert server.transport is not None
            server.transport.abort()
            return "250 OK"
        self.accepted.append(item)
        self.arrived.set()
        return "250 OK"

    async def _wait_at_gate(self) -> None:
        if self._gate_open is None:
            self._gate_open = asyncio.Event()
        self._in_flight += 1
        if self._in_flight >= self.gate:
            self.gate_met = True
            self._gate_open.set()
            return
        # On timeout the test's gate_met assertion fails; a client is never hung.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._gate_open.wait(), timeout=15)


class SmtpServer:
    """aiosmtpd in its own thread on 127.0.0.1:<port>; start and stop at will."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = RecordingHandler()
        self._controller: Controller | None = None

    def start(self) -> None:
        assert self._controller is None
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, server_hostname="mx.test"
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_settings(settings: Any, smtp_port: int) -> Any:
    """Django's SMTP backend aimed at the test server's port (running or not)."""
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
def smtp_down(smtp_settings: Any, smtp_port: int) -> Iterator[SmtpServer]:
    """A server object for the configured port, not started yet (the SMTP server is down)."""
    server = SmtpServer(smtp_port)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server(smtp_down: SmtpServer) -> SmtpServer:
    """The SMTP server, up."""
    smtp_down.start()
    return smtp_down
