"""The protocol client's own rules: where it connects, how it retries, what it keeps.

The activation itself is tested against the real bank in tests/otp/test_activation_flow.py;
these tests need no Django and no bank.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from netbank.oath.activation import ed25519_public_text
from netbank.oath.totp import totp
from netbank.token_app.client import (
    ActivatedToken,
    ActivationClient,
    ActivationRefusedError,
    NetworkError,
    TransportError,
    totp_now,
    urllib_transport,
)

KEY = ed25519_public_text(Ed25519PrivateKey.generate().public_key())
SEED = bytes(range(20))


def _token(offset: float = 0.0) -> ActivatedToken:
    return ActivatedToken(
        seed=SEED,
        signing_key=bytes(range(32)),
        algorithm="SHA1",
        digits=6,
        period=30,
        server_time_offset=offset,
        user_id="394817265043",
        service_id="100001",
    )


@pytest.mark.parametrize(
    "url",
    ["http://bank.example.jp", "ftp://127.0.0.1", "bank.example.jp", "https://"],
)
def test_bank_url_must_be_https_except_on_this_machine(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        ActivationClient(url, KEY)


@pytest.mark.parametrize(
    "url", ["https://bank.example.jp", "http://127.0.0.1:8000", "http://localhost"]
)
def test_https_and_loopback_urls_are_accepted(url: str) -> None:
    assert ActivationClient(url, KEY).base_url == url


def test_client_needs_a_usable_bank_key() -> None:
    with pytest.raises(ValueError, match="bank public key"):
        ActivationClient("https://bank.example.jp", "AAAA")
    with pytest.raises(ValueError, match="at least one"):
        ActivationClient("https://bank.example.jp", [])


def test_totp_now_runs_on_the_banks_clock() -> None:
    phone_now = 1_795_000_000.0
    assert totp_now(_token(offset=-90), now=phone_now) == totp(SEED, phone_now - 90)
    assert totp_now(_token(), now=phone_now) == totp(SEED, phone_now)


def test_activated_token_never_shows_its_keys() -> None:
    text = repr(_token())
    assert SEED.hex() not in text
    assert str(SEED) not in text
    assert "394817265043" in text


def test_a_5xx_is_retried_with_the_same_request_then_the_answer_is_used() -> None:
    sent: list[bytes] = []
    delays: list[float] = []
    answers = iter(
        [
            (503, b"busy"),
            (502, b""),
            (403, b'{"error": {"code": "activation_failed", "message": "m", "message_en": "e"}}'),
        ]
    )

    def transport(url: str, body: bytes) -> tuple[int, bytes]:
        sent.append(body)
        return next(answers)

    client = ActivationClient(
        "https://bank.example.jp", KEY, transport=transport, sleep=delays.append
    )
    with pytest.raises(ActivationRefusedError) as refused:
        client.activate("100001", "394817265043", "4821")
    assert refused.value.code == "activation_failed"
    assert refused.value.message_en == "e"
    assert len(set(sent)) == 1
    assert len(sent) == 3
    assert delays == [1.0, 2.0]


@pytest.mark.parametrize(
    "answer",
    [(200, b"<html>captive portal</html>"), (200, b"[]"), (400, b'{"no": "error"}')],
)
def test_an_answer_that_is_not_the_api_is_a_transport_error(answer: tuple[int, bytes]) -> None:
    client = ActivationClient("https://bank.example.jp", KEY, transport=lambda u, b: answer)
    with pytest.raises(TransportError):
        client.activate("100001", "394817265043", "4821")


# --- urllib over a real loopback socket ---------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    release = threading.Event()
    mode = "redirect"
    requests: list[str] = []

    def do_POST(self) -> None:
        _Handler.requests.append(self.path)
        if _Handler.mode == "hang":
            _Handler.release.wait(timeout=10)
            return
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:1/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    _Handler.requests = []
    _Handler.release.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        _Handler.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_redirects_are_never_followed(local_server: str) -> None:
    _Handler.mode = "redirect"
    status, _ = urllib_transport(timeout=5)(local_server + "/api/v1/activation/start", b"{}")
    assert status == 302
    assert _Handler.requests == ["/api/v1/activation/start"]


def test_a_bank_that_does_not_answer_times_out_and_is_retried(local_server: str) -> None:
    _Handler.mode = "hang"
    client = ActivationClient(local_server, KEY, timeout=0.3, sleep=lambda _: None)
    with pytest.raises(TransportError):
        client.activate("100001", "394817265043", "4821")
    assert len(_Handler.requests) == 3


def test_an_unreachable_bank_raises_network_error_from_the_transport() -> None:
    with pytest.raises(NetworkError):
        urllib_transport(timeout=2)("http://127.0.0.1:1/api/v1/activation/start", b"{}")
