"""The token app's side of the activation protocol (docs/protocols.md), over HTTP.

``ActivationClient(base_url, bank_public_key).activate(service_id, user_id, password)``
plays the phone: a fresh X25519 key, the bank's signed answer checked against the
public key from the install configuration (never from the mail), HKDF over the
transcript, the 利用開始パスワード proven by MAC and never sent, and the bank's
confirmation MAC checked. A lost round-two answer is retried with the same request,
which the bank answers idempotently.

Standard library HTTP (urllib) only, with timeouts; no Django.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from netbank.oath import activation as proto
from netbank.oath.totp import totp
from netbank.token_app.install_config import InstallConfig

START_PATH = "/api/v1/activation/start"
FINISH_PATH = "/api/v1/activation/finish"
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "netbank-token-app/1"

# (url, JSON body) -> (HTTP status, body). Tests pass one that talks to Django's test
# client; the app uses ``urllib_transport``.
Transport = Callable[[str, bytes], tuple[int, bytes]]


class ActivationError(Exception):
    """Activation did not complete. ``message`` is Japanese, ``message_en`` English."""

    def __init__(self, message: str, message_en: str = "") -> None:
        super().__init__(message_en or message)
        self.message = message
        self.message_en = message_en or message


class InvalidInputError(ActivationError):
    """What the customer typed cannot be right (format only; nothing was sent)."""


class ActivationRefusedError(ActivationError):
    """The bank answered with an error (``code``), e.g. ``activation_failed``."""

    def __init__(self, code: str, status: int, message: str, message_en: str) -> None:
        super().__init__(message, message_en)
        self.code = code
        self.status = status


class UntrustedAnswerError(ActivationError):
    """The answer is not from the bank: unsigned, wrongly signed, not for this request,
    or its confirmation MAC does not match. Nothing from it is kept."""


class TransportError(ActivationError):
    """The bank could not be reached, or answered with something that is not the API."""


class NetworkError(Exception):
    """Raised by a transport when the request may not have arrived or its answer was
    lost (connection refused or reset, timeout): the same request is sent again."""


@dataclass(frozen=True, repr=False)
class ActivatedToken:
    """What the app keeps after activation (in its encrypted vault)."""

    seed: bytes
    signing_key: bytes
    algorithm: str
    digits: int
    period: int
    # Seconds to add to the phone's clock to get the bank's (measured at activation).
    server_time_offset: float
    user_id: str
    service_id: str

    def __repr__(self) -> str:  # key material never reaches a log or a traceback
        return (
            f"ActivatedToken(user_id={self.user_id!r}, service_id={self.service_id!r}, "
            f"algorithm={self.algorithm!r}, digits={self.digits}, period={self.period}, "
            f"server_time_offset={self.server_time_offset:.0f})"
        )


def totp_now(token: ActivatedToken, *, now: float | None = None) -> str:
    """The OTP the app shows now, on the bank's clock (phone clock + learned offset)."""
    moment = time.time() if now is None else now
    return totp(
        token.seed,
        moment + token.server_time_offset,
        period=token.period,
        digits=token.digits,
        algorithm=token.algorithm,
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """An API answer is never a redirect; following one could send the request elsewhere."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def urllib_transport(*, timeout: float = 10.0) -> Transport:
    """POST JSON with urllib: a timeout on every request, no redirects, bounded answers."""
    opener = urllib.request.build_opener(_NoRedirect())

    def send(url: str, body: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in ActivationClient
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with opener.open(request, timeout=timeout) as response:
                return int(response.status), response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            with exc:
                return int(exc.code), exc.read(MAX_ANSWER_BYTES + 1)
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            raise NetworkError(str(exc)) from exc

    return send


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _trusted_keys(
    bank_public_key: str | bytes | Ed25519PublicKey | Sequence[str | bytes | Ed25519PublicKey],
) -> list[Ed25519PublicKey]:
    items: Sequence[str | bytes | Ed25519PublicKey]
    if isinstance(bank_public_key, str | bytes | Ed25519PublicKey):
        items = [bank_public_key]
    else:
        items = bank_public_key
    keys: list[Ed25519PublicKey] = []
    for item in items:
        keys.append(item if isinstance(item, Ed25519PublicKey) else proto.ed25519_public_key(item))
    if not keys:
        raise ValueError("the install configuration must name at least one bank public key")
    return keys


class ActivationClient:
    """The protocol client. ``bank_public_key`` is the bank's Ed25519 key (base64url of
    the 32 raw bytes, or several during a key rollover) from the install configuration.
    """

    def __init__(
        self,
        base_url: str,
        bank_public_key: str | bytes | Ed25519PublicKey | Sequence[str | bytes | Ed25519PublicKey],
        *,
        transport: Transport | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        retry_delay: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise ValueError(f"the bank URL must be an https:// URL, not {base_url!r}")
        if parsed.scheme == "http" and not _is_loopback(parsed.hostname):
            # Plain HTTP only to this machine (the demo); a bank is reached over TLS.
            raise ValueError("the bank URL must use https://")
        self.base_url = base_url.rstrip("/")
        self.trusted_keys = _trusted_keys(bank_public_key)
        self.transport = transport or urllib_transport(timeout=timeout)
        self.attempts = max(1, attempts)
        self.retry_delay = retry_delay
        self.sleep = sleep
        self.clock = clock

    # --- HTTP ---------------------------------------------------------------------------

    def _post(self, path: str, payload: dict[str, str]) -> dict[str, Any]:
        """POST and parse; the same body is resent after a network failure or a 5xx."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        url = self.base_url + path
        last = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.retry_delay * 2 ** (attempt - 1))
            try:
                status, raw = self.transport(url, body)
            except NetworkError as exc:
                last = str(exc)
                continue
            if status >= 500:
                last = f"HTTP {status}"
                continue
            return self._parse(status, raw)
        raise TransportError(
            "銀行に接続できませんでした。通信環境の良い場所で、もう一度お試しください。",
            f"Could not reach the bank ({last}). Please try again where the connection is good.",
        )

    @staticmethod
    def _parse(status: int, raw: bytes) -> dict[str, Any]:
        if len(raw) > MAX_ANSWER_BYTES:
            raise TransportError("銀行からの応答が正しくありません。", "The answer is too large.")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            raise TransportError(
                "銀行からの応答が正しくありません。", f"The answer (HTTP {status}) is not JSON."
            ) from None
        if not isinstance(data, dict):
            raise TransportError(
                "銀行からの応答が正しくありません。", "The answer is not an object."
            )
        if status != 200:
            error = data.get("error")
            if not isinstance(error, dict) or not isinstance(error.get("code"), str):
                raise TransportError(
                    "銀行からの応答が正しくありません。", f"Unexpected answer (HTTP {status})."
                )
            raise ActivationRefusedError(
                error["code"],
                status,
                str(error.get("message") or ""),
                str(error.get("message_en") or error.get("message") or ""),
            )
        return data

    # --- the protocol ---------------------------------------------------------------------

    def activate(self, service_id: str, user_id: str, activation_password: str) -> ActivatedToken:
        """Set up a token; returns its keys. Raises an ``ActivationError`` subclass."""
        try:
            service_id = proto.check_service_id(service_id.strip())
            user_id = proto.check_user_id(user_id.strip().translate(_FULL_WIDTH))
            password = proto.activation_password_bytes(activation_password)
        except proto.ActivationError as exc:
            raise InvalidInputError(
                "サービスID、ユーザID、利用開始パスワードの形式が正しくありません。",
                f"Check what you typed: {exc}",
            ) from None

        private, public = proto.x25519_generate()
        sent_at = self.clock()
        answer = self._post(
            START_PATH,
            {
                "service_id": service_id,
                "user_id": user_id,
                "app_public_key": proto.b64url_encode(public),
            },
        )
        received_at = self.clock()
        try:
            transcript, signature = proto.Transcript.from_json(answer)
            proto.verify_transcript_signature(self.trusted_keys, transcript, signature)
        except proto.SignatureError as exc:
            raise UntrustedAnswerError(
                "銀行からの応答を確認できませんでした。正規のアプリと接続先であることをご確認ください。",
                str(exc),
            ) from None
        except proto.ActivationError as exc:
            raise UntrustedAnswerError(
                "銀行からの応答が正しくありません。", f"Malformed server answer: {exc}"
            ) from None
        # A signed answer for someone else's request (another key or ユーザID) is a replay.
        if (
            transcript.service_id != service_id
            or transcript.user_id != user_id
            or not proto.macs_equal(transcript.app_public_key, public)
        ):
            raise UntrustedAnswerError(
                "銀行からの応答が、この端末の要求と一致しません。",
                "The signed answer was made for a different request.",
            )

        try:
            shared = proto.x25519_shared_secret(private, transcript.server_public_key)
        except proto.ActivationError as exc:
            raise UntrustedAnswerError("銀行からの応答が正しくありません。", str(exc)) from None
        keys = proto.derive_keys(shared, transcript)
        proof = proto.client_proof(keys.confirmation_key, transcript, password)
        transcript_id = proto.b64url_encode(transcript.transcript_id)
        result = self._post(
            FINISH_PATH, {"transcript_id": transcript_id, "proof": proto.b64url_encode(proof)}
        )
        try:
            confirmation = proto.b64url_decode(
                result.get("server_confirmation"),
                length=proto.MAC_BYTES,
                field="server_confirmation",
            )
        except proto.ActivationError as exc:
            raise UntrustedAnswerError("銀行からの応答が正しくありません。", str(exc)) from None
        expected = proto.server_confirmation(keys.confirmation_key, transcript, password)
        if result.get("transcript_id") != transcript_id or not proto.macs_equal(
            confirmation, expected
        ):
            raise UntrustedAnswerError(
                "銀行からの確認を検証できませんでした。",
                "The bank's confirmation does not match this activation.",
            )
        midpoint = (sent_at + received_at) / 2
        return ActivatedToken(
            seed=keys.seed,
            signing_key=keys.signing_key,
            algorithm=transcript.algorithm,
            digits=transcript.digits,
            period=transcript.period,
            server_time_offset=transcript.server_time - midpoint,
            user_id=user_id,
            service_id=service_id,
        )


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def client_from_install_config(config: InstallConfig, **options: Any) -> ActivationClient:
    """The client for the bank and the keys the app was installed with that have not run
    out yet (raises ``install_config.BankKeyExpiredConfigError`` if none is left)."""
    clock: Callable[[], float] = options.get("clock", time.time)
    keys = config.keys_at(clock())
    return ActivationClient(config.bank_url, [key.public_key for key in keys], **options)


# --- Directログイン (leaflet part 2, Step 3) --------------------------------------------

DIRECT_LOGIN_PATH = "/api/v1/direct-login"


class DirectLoginError(Exception):
    """Direct login did not give a URL. ``message`` is Japanese, ``message_en`` English;
    ``code`` is the bank's error code ("direct_login_failed", "throttled", …) or
    "transport" / "untrusted" when the bank's answer itself was the problem."""

    def __init__(self, code: str, message: str, message_en: str = "", status: int = 0) -> None:
        super().__init__(message_en or message)
        self.code = code
        self.message = message
        self.message_en = message_en or message
        self.status = status


# The bank's ticket: token_urlsafe(32), 43 characters of the URL-safe base64 alphabet.
_TICKET_RE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, repr=False)
class DirectLoginLink:
    """A successful Directログイン: ``post_url`` and ``ticket`` for the local page that
    posts the ticket (``token_app.launch``), ``url`` the GET form to show where no
    browser can be opened. An older bank sends only ``url``."""

    url: str
    post_url: str | None = None
    ticket: str | None = None

    def __repr__(self) -> str:  # the ticket never reaches a log or a traceback
        return f"DirectLoginLink(post_url={self.post_url!r})"


class DirectLoginClient:
    """The app's Directログイン: ログインID + ログインパスワード, the token's ユーザID and the
    OTP the app computes itself → a single-use URL to open in the browser (valid ≤ 60 s).

    One request, never retried: the OTP in it is single-use, so a resent request after
    a lost answer would only be refused (and counted) as a replay.
    """

    def __init__(
        self, base_url: str, *, transport: Transport | None = None, timeout: float = 10.0
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise ValueError(f"the bank URL must be an https:// URL, not {base_url!r}")
        if parsed.scheme == "http" and not _is_loopback(parsed.hostname):
            raise ValueError("the bank URL must use https://")
        self.base_url = base_url.rstrip("/")
        self.transport = transport or urllib_transport(timeout=timeout)

    def direct_login(
        self, *, service_id: str, user_id: str, login_id: str, password: str, code: str
    ) -> str:
        """The single-use GET URL (the fallback form). Raises ``DirectLoginError``."""
        return self.direct_login_link(
            service_id=service_id, user_id=user_id, login_id=login_id, password=password, code=code
        ).url

    def direct_login_link(
        self, *, service_id: str, user_id: str, login_id: str, password: str, code: str
    ) -> DirectLoginLink:
        """The bank's answer: where to POST the ticket, and the GET fallback URL.

        Raises ``DirectLoginError``."""
        body = json.dumps(
            {
                "service_id": service_id,
                "user_id": user_id,
                "login_id": login_id,
                "password": password,
                "otp": code,
            },
            separators=(",", ":"),
        ).encode()
        try:
            status, raw = self.transport(self.base_url + DIRECT_LOGIN_PATH, body)
        except NetworkError as exc:
            raise DirectLoginError(
                "transport",
                "銀行に接続できませんでした。通信環境の良い場所で、もう一度お試しください。",
                f"Could not reach the bank ({exc}).",
            ) from None
        try:
            data = ActivationClient._parse(status, raw)
        except ActivationRefusedError as exc:
            raise DirectLoginError(exc.code, exc.message, exc.message_en, exc.status) from None
        except TransportError as exc:
            raise DirectLoginError("transport", exc.message, exc.message_en, status) from None
        untrusted = DirectLoginError(
            "untrusted",
            "銀行からの応答が正しくありません。",
            "The answer's URL is not on the bank's site.",
        )
        url = data.get("url")
        if not isinstance(url, str) or not self._same_origin(url):
            # The app opens only the bank's own pages, whatever an answer says.
            raise untrusted
        post_url, ticket = data.get("post_url"), data.get("ticket")
        if post_url is None and ticket is None:
            return DirectLoginLink(url=url)  # a bank from before the POST form
        if (
            not isinstance(post_url, str)
            or not self._same_origin(post_url)
            or urllib.parse.urlsplit(post_url).query
            or not isinstance(ticket, str)
            or not _TICKET_RE.fullmatch(ticket)
        ):
            raise untrusted
        return DirectLoginLink(url=url, post_url=post_url, ticket=ticket)

    def direct_login_with_token(
        self, token: ActivatedToken, *, login_id: str, password: str, now: float | None = None
    ) -> str:
        """Direct login with the code the app's token shows now (on the bank's clock)."""
        return self.direct_login(
            service_id=token.service_id,
            user_id=token.user_id,
            login_id=login_id,
            password=password,
            code=totp_now(token, now=now),
        )

    def _same_origin(self, url: str) -> bool:
        mine = urllib.parse.urlsplit(self.base_url)
        theirs = urllib.parse.urlsplit(url)
        return (theirs.scheme, theirs.netloc) == (mine.scheme, mine.netloc)
