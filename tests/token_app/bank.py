"""A loopback bank for the token app's own tests.

A real HTTP server on 127.0.0.1 speaking the activation protocol with the same pure
``netbank.oath.activation`` functions the Django server uses, so the app's real
``ActivationClient`` runs over a real socket. It can also misbehave on purpose (answer
garbage, sign with the wrong key, fail with 500s), which the real bank never does. The
end-to-end run against the Django server lives with the server's tests.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from netbank.oath import activation as proto
from netbank.oath import totp_verify
from netbank.oath.bankkeys import BankKey, key_id_for
from netbank.token_app.install_config import InstallConfig, install_config_write

MAX_FAILURES = 5


@dataclass
class Issue:
    user_id: str
    password: str
    failures: int = 0
    state: str = "issued"  # issued → activated, or voided
    seed: bytes = b""
    signing_key: bytes = b""


@dataclass
class LoopbackBank:
    service_id: str = "100001"
    algorithm: str = "SHA1"
    digits: int = 6
    period: int = 30
    # Seconds the bank's clock is ahead of the machine's (to test the skew warning).
    clock_ahead: float = 0.0
    # "ok", "garbage", "wrong_signature", "server_error", "html_error"
    mode: str = "ok"
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    issues: dict[str, Issue] = field(default_factory=dict)
    sessions: dict[str, tuple[proto.Transcript, bytes]] = field(default_factory=dict)
    # Directログイン: login_id → (login password, ユーザID of the customer's token)
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    last_step: dict[str, int] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)
    # 取引認証: ユーザID → the question waiting on the customer's confirmation screen
    pending: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    base_url: str = ""
    key_not_after: int = 4102444800  # 2100-01-01: the tests' own bank key does not run out

    def issue(self, password: str, user_id: str | None = None) -> Issue:
        user_id = user_id or str(secrets.randbelow(9 * 10**11) + 10**11)
        self.issues[user_id] = Issue(user_id=user_id, password=password)
        return self.issues[user_id]

    def public_key_text(self) -> str:
        return proto.ed25519_public_text(self.key.public_key())

    def install_config(self) -> InstallConfig:
        return InstallConfig(
            bank_url=self.base_url,
            bank_key=BankKey(
                key_id_for(self.public_key_text()), self.public_key_text(), self.key_not_after
            ),
            bank_name="テスト銀行",
            service_id=self.service_id,
        )

    def write_install_config(self, path: Path) -> Path:
        install_config_write(path, self.install_config())
        return path

    def verify(self, user_id: str, code: str, now: float | None = None) -> bool:
        issue = self.issues[user_id]
        moment = (time.time() if now is None else now) + self.clock_ahead
        return (
            totp_verify(
                issue.seed,
                code,
                moment,
                period=self.period,
                digits=self.digits,
                algorithm=self.algorithm,
            )
            is not None
        )

    def account(self, login_id: str, password: str, user_id: str) -> None:
        self.accounts[login_id] = (password, user_id)

    def direct_login(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        refused = (
            403,
            {
                "error": {
                    "code": "direct_login_failed",
                    "message": "ログインできませんでした。",
                    "message_en": "Could not log in.",
                }
            },
        )
        login_id, password = body.get("login_id"), body.get("password")
        user_id, code = body.get("user_id"), body.get("otp")
        if not all(isinstance(v, str) for v in (login_id, password, user_id, code)):
            return self._error("invalid_field", 400)
        account = self.accounts.get(str(login_id))
        issue = self.issues.get(str(user_id))
        if account is None or issue is None or issue.state != "activated":
            return refused
        if (
            not proto.macs_equal(account[0].encode(), str(password).encode())
            or account[1] != user_id
        ):
            return refused
        step = totp_verify(
            issue.seed,
            str(code),
            time.time() + self.clock_ahead,
            period=self.period,
            digits=self.digits,
            algorithm=self.algorithm,
        )
        if step is None or step <= self.last_step.get(issue.user_id, -1):
            return refused
        self.last_step[issue.user_id] = step
        self.logins.append(str(login_id))
        origin = "https://phishing.example" if self.mode == "foreign_url" else self.base_url
        ticket = secrets.token_urlsafe(32)
        answer: dict[str, Any] = {
            "status": "ok",
            "url": f"{origin}/login/direct/?t={ticket}",
            "expires_in": 60,
        }
        if self.mode != "old_bank":  # a bank from before the POST form sends only the URL
            answer.update(post_url=f"{origin}/login/direct/open/", ticket=ticket)
        self.tickets.append(ticket)
        return 200, answer

    def signing_pending(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        from netbank.token_app.signing import pending_request_mac

        unauthorized = (401, {"error": {"code": "unauthorized", "message": "認証できません。"}})
        user_id, stamp, mac = body.get("user_id"), body.get("time"), body.get("mac")
        issue = self.issues.get(str(user_id))
        if issue is None or issue.state != "activated" or not isinstance(mac, str):
            return unauthorized
        if not isinstance(stamp, str) or not stamp.isdigit():
            return unauthorized
        if abs(int(stamp) - (time.time() + self.clock_ahead)) > 120:
            return unauthorized
        expected = pending_request_mac(
            issue.signing_key, service_id=self.service_id, user_id=issue.user_id, time=int(stamp)
        )
        if not proto.macs_equal(expected.encode(), mac.encode()):
            return unauthorized
        if self.mode == "bad_question":
            return 200, {"pending": True, "question": "9" * 54}
        question = self.pending.get(issue.user_id)
        if question is None:
            return 200, {"pending": False}
        return 200, {"pending": True, "suite": "OCRA-1:HOTP-SHA256-8:QN54", "question": question}

    # --- the two rounds ----------------------------------------------------------------

    def _error(self, code: str, status: int = 403) -> tuple[int, dict[str, Any]]:
        return status, {
            "error": {
                "code": code,
                "message": "トークンの設定ができませんでした。",
                "message_en": code,
            }
        }

    def start(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            service_id = proto.check_service_id(body.get("service_id"))
            user_id = proto.check_user_id(body.get("user_id"))
            app_public = proto.b64url_decode(
                body.get("app_public_key"), length=32, field="app_public_key"
            )
        except proto.ActivationError:
            return self._error("invalid_field", 400)
        issue = self.issues.get(user_id)
        if service_id != self.service_id or issue is None or issue.state != "issued":
            return self._error("activation_failed")
        private, public = proto.x25519_generate()
        now = int(time.time() + self.clock_ahead)
        transcript = proto.Transcript(
            transcript_id=proto.new_transcript_id(),
            service_id=service_id,
            user_id=user_id,
            app_public_key=app_public,
            server_public_key=public,
            algorithm=self.algorithm,
            digits=self.digits,
            period=self.period,
            server_time=now,
            expires_at=now + 600,
        )
        self.sessions[proto.b64url_encode(transcript.transcript_id)] = (
            transcript,
            proto.x25519_private_bytes(private),
        )
        signer = self.key if self.mode != "wrong_signature" else Ed25519PrivateKey.generate()
        return 200, transcript.to_json(proto.sign_transcript(signer, transcript))

    def finish(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        transcript_id = body.get("transcript_id")
        session = self.sessions.get(transcript_id) if isinstance(transcript_id, str) else None
        if session is None:
            return self._error("activation_failed")
        transcript, private_bytes = session
        issue = self.issues[transcript.user_id]
        if issue.state != "issued":
            return self._error("activation_failed")
        shared = proto.x25519_shared_secret(
            proto.x25519_private_from_bytes(private_bytes), transcript.app_public_key
        )
        keys = proto.derive_keys(shared, transcript)
        password = issue.password.encode()
        try:
            proof = proto.b64url_decode(body.get("proof"), length=32, field="proof")
        except proto.ActivationError:
            return self._error("invalid_field", 400)
        if not proto.macs_equal(
            proof, proto.client_proof(keys.confirmation_key, transcript, password)
        ):
            issue.failures += 1
            if issue.failures >= MAX_FAILURES:
                issue.state = "voided"
            return self._error("activation_failed")
        issue.state = "activated"
        issue.seed, issue.signing_key = keys.seed, keys.signing_key
        confirmation = proto.server_confirmation(keys.confirmation_key, transcript, password)
        return 200, {
            "status": "activated",
            "transcript_id": transcript_id,
            "server_confirmation": proto.b64url_encode(confirmation),
        }


def _handler(bank: LoopbackBank) -> type[BaseHTTPRequestHandler]:
    routes: dict[str, Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]] = {
        "/api/v1/activation/start": bank.start,
        "/api/v1/activation/finish": bank.finish,
        "/api/v1/direct-login": bank.direct_login,
        "/banking/api/v1/signing/pending": bank.signing_pending,
    }

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            return

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_HEAD(self) -> None:
            self._send(200, b"", "text/html")

        def do_GET(self) -> None:
            self._send(404, b'{"error": {"code": "not_found"}}', "application/json")

        def do_POST(self) -> None:
            bank.requests += 1
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if bank.mode == "garbage":
                self._send(
                    200, b"<html><body>Welcome to the captive portal</body></html>", "text/html"
                )
                return
            if bank.mode == "server_error":
                self._send(503, b"Service Unavailable", "text/plain")
                return
            if bank.mode == "html_error":
                self._send(403, b"<html>Forbidden</html>", "text/html")
                return
            route = routes.get(self.path)
            if route is None:
                self._send(404, b'{"error": {"code": "not_found"}}', "application/json")
                return
            try:
                body = json.loads(raw)
            except ValueError:
                status, answer = bank._error("bad_request", 400)
            else:
                status, answer = route(body if isinstance(body, dict) else {})
            self._send(status, json.dumps(answer).encode(), "application/json")

    return Handler


@contextmanager
def running_bank(bank: LoopbackBank | None = None) -> Iterator[LoopbackBank]:
    bank = bank or LoopbackBank()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(bank))
    bank.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield bank
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def unused_loopback_url() -> str:
    """An http://127.0.0.1 URL on which nothing listens (the bank unreachable)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
