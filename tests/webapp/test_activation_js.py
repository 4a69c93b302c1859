"""The phone app's activation.js: the same bytes, keys and MACs as netbank.oath.activation,
the checks of docs/protocols.md §1.5 before anything derived from the password is sent,
the client's retry rule, and a whole activation against the live bank."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.conf import settings
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from netbank.oath import activation as proto
from netbank.oath.totp import totp
from netbank.otp.activation.signing_key import signing_public_key_text
from netbank.otp.models import Token
from netbank.otp.token_secret import token_seed, token_signing_key
from tests.browser import support as browser_support
from tests.otp.factories import ACTIVATION_PASSWORD, issue_token
from tests.webapp.conftest import run_js

B64 = proto.b64url_encode
# Small-order X25519 public keys: each gives the all-zero shared secret.
SMALL_ORDER = [bytes(32), (1).to_bytes(32, "little"), (2**255 - 20).to_bytes(32, "little")]


def _transcript(**changes: Any) -> proto.Transcript:
    values: dict[str, Any] = {
        "transcript_id": secrets.token_bytes(16),
        "service_id": "100001",
        "user_id": str(10**11 + secrets.randbelow(9 * 10**11)),
        "app_public_key": X25519PrivateKey.generate().public_key().public_bytes_raw(),
        "server_public_key": X25519PrivateKey.generate().public_key().public_bytes_raw(),
        "algorithm": "SHA1",
        "digits": 6,
        "period": 30,
        "server_time": 1795000000,
        "expires_at": 1795000600,
    }
    values.update(changes)
    return proto.Transcript(**values)


def non_canonical(text: str) -> str:
    """``text`` with a stray low bit set in its last character: the same bytes, spelt
    in a way no encoder writes (the strict decoder must refuse it)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return text[:-1] + alphabet[alphabet.index(text[-1]) ^ 1]


def _jwk(private: X25519PrivateKey | Ed25519PrivateKey) -> dict[str, str]:
    crv = "X25519" if isinstance(private, X25519PrivateKey) else "Ed25519"
    public = private.public_key().public_bytes_raw()
    return {"kty": "OKP", "crv": crv, "d": B64(private.private_bytes_raw()), "x": B64(public)}


def test_transcript_keys_and_macs_equal_python(js_page: Page) -> None:
    transcripts = [
        _transcript(),
        _transcript(service_id="A-z_9" * 6 + "xy", algorithm="SHA512", digits=8, period=300),
        _transcript(algorithm="SHA256", digits=7, period=10, server_time=0, expires_at=2**40),
    ]
    blobs = [secrets.token_bytes(n) for n in range(40)]
    vectors = []
    for t in transcripts:
        app, server = X25519PrivateKey.generate(), X25519PrivateKey.generate()
        t = proto.Transcript(
            **{
                **t.__dict__,
                "app_public_key": app.public_key().public_bytes_raw(),
                "server_public_key": server.public_key().public_bytes_raw(),
            }
        )
        keys = proto.derive_keys(app.exchange(server.public_key()), t)
        password = str(secrets.randbelow(10**8)).zfill(secrets.choice((4, 6, 8)))
        vectors.append(
            {
                "answer": t.to_json(b"\x01" * 64),
                "encoded": t.encode().hex(),
                "app": _jwk(app),
                "password": password,
                "expected": [
                    keys.confirmation_key.hex(),
                    keys.seed.hex(),
                    keys.signing_key.hex(),
                    proto.client_proof(keys.confirmation_key, t, password.encode()).hex(),
                    proto.server_confirmation(keys.confirmation_key, t, password.encode()).hex(),
                ],
            }
        )
    results = run_js(
        js_page,
        """
        const a = await import(APP + "activation.js");
        const { hex } = await import(APP + "bytes.js");
        const out = [];
        for (const v of arg.vectors) {
          const { transcript: t, signature } = a.parseAnswer(v.answer);
          const app = await crypto.subtle.importKey("jwk", v.app, { name: "X25519" }, false, ["deriveBits"]);
          const k = await a.deriveKeys(await a.x25519SharedSecret(app, t.serverPublicKey), t);
          out.push({
            encoded: hex(a.encodeTranscript(t)),
            signature: hex(signature),
            keys: [
              hex(k.confirmationKey), hex(k.seed), hex(k.signingKey),
              hex(await a.clientProof(k.confirmationKey, t, a.normalisePassword(v.password))),
              hex(await a.serverConfirmation(k.confirmationKey, t, v.password)),
            ],
          });
        }
        const password = (text) => { try { return a.normalisePassword(text); }
          catch (e) { return e.name + ":" + e.field; } };
        const b = await import(APP + "bytes.js");
        out.push(arg.blobs.map((h) => {
          const raw = b.fromHex(h);
          const text = b.b64urlEncode(raw);
          return [text, hex(b.b64urlDecode(text, raw.length, "x")), b.bytesEqual(raw, b.fromHex(h)),
                  raw.length > 0 && b.bytesEqual(raw, raw.map((x, i) => (i === raw.length - 1 ? x ^ 1 : x)))];
        }));
        out.push(["０１２３４５", " 4821\u3000", "1234５678", "123", "123456789", "12a4", "١٢٣٤",
                  "12 34", "", null].map(password));
        return out;
        """,
        {"vectors": vectors, "blobs": [b.hex() for b in blobs]},
    )
    for vector, result in zip(vectors, results[:-2], strict=True):
        assert result == {
            "encoded": vector["encoded"],
            "signature": "01" * 64,
            "keys": vector["expected"],
        }
    assert results[-2] == [[B64(b), b.hex(), True, False] for b in blobs]
    bad = "InvalidInputError:password"
    assert results[-1] == ["012345", "4821", "12345678", bad, bad, bad, bad, bad, bad, bad]
    for typed, js in zip(["０１２３４５", " 4821\u3000", "1234５678"], results[-1], strict=False):
        assert proto.activation_password_bytes(typed).decode() == js


def test_only_a_bank_signed_well_formed_answer_is_trusted(js_page: Page) -> None:
    bank, following, other = (Ed25519PrivateKey.generate() for _ in range(3))
    bank_text = proto.ed25519_public_text(bank.public_key())
    t = _transcript()
    good: dict[str, Any] = t.to_json(proto.sign_transcript(bank, t))
    refused: list[tuple[str, dict[str, Any]]] = [
        ("unsigned", {**good, "signature": ""}),
        ("no signature field", {k: v for k, v in good.items() if k != "signature"}),
        ("signed by another key", t.to_json(proto.sign_transcript(other, t))),
    ]
    changes: dict[str, Any] = {
        "transcript_id": B64(secrets.token_bytes(16)),
        "service_id": "100002",
        "user_id": str(int(t.user_id) + 1),
        "app_public_key": B64(secrets.token_bytes(32)),
        "server_public_key": B64(secrets.token_bytes(32)),
        "algorithm": "SHA256",
        "digits": 8,
        "period": 60,
        "server_time": t.server_time + 1,
        "expires_at": t.expires_at + 1,
    }
    refused += [(f"changed {k}", {**good, k: v}) for k, v in changes.items()]
    malformed: dict[str, Any] = {
        "transcript_id": [
            non_canonical(good["transcript_id"]),
            good["transcript_id"] + "==",
            good["transcript_id"][:-1] + "+",
            good["transcript_id"][:-2],
            None,
        ],
        "signature": [
            non_canonical(good["signature"]),
            good["signature"][:-1] + "/",
            good["signature"][:-4],
            5,
        ],
        "app_public_key": [
            non_canonical(good["app_public_key"]),
            good["app_public_key"] + "A",
            good["app_public_key"][:-1] + ".",
        ],
        "protocol": ["netbank-activation/2", None],
        "digits": ["6", True, 5, 9, None],
        "period": [9, 301, 30.5],
        "server_time": [-1, 2**40 + 1, "1795000000"],
        "user_id": ["12345678901", "１２３４５６７８９０１２", 123456789012],
        "service_id": ["", "x" * 33, "10 01"],
        "algorithm": ["MD5", "sha1", None],
    }
    for field, values in malformed.items():
        refused += [(f"{field}={value!r}", {**good, field: value}) for value in values]
    # Python's json reads 6.0 as a float, which the integer checks refuse; so must the app.
    text_answers = [
        ("digits 6.0", _json_with(good, '"digits": 6', '"digits": 6.0')),
        ("period 3e1", _json_with(good, '"period": 30', '"period": 3e1')),
        ("not an object", "[1]"),
    ]
    result = run_js(
        js_page,
        """
        const a = await import(APP + "activation.js");
        const check = async (answer) => {
          try {
            const { transcript, signature } = a.parseAnswer(answer);
            await a.verifyAnswer(arg.keys, transcript, signature);
            return "trusted";
          } catch (e) { return e.name; }
        };
        const out = { good: await check(arg.good), goodText: await check(JSON.stringify(arg.good)),
                      refused: [] };
        // While the bank rolls its key over, either listed key may have signed.
        out.nextKey = await (async () => {
          const { transcript, signature } = a.parseAnswer(arg.good);
          await a.verifyAnswer([arg.keys[1], arg.keys[0]], transcript, signature);
          return "trusted";
        })();
        for (const [name, answer] of arg.refused) out.refused.push([name, await check(answer)]);
        const probe = await crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]);
        out.smallOrder = [];
        for (const key of arg.smallOrder) {
          try { await a.x25519SharedSecret(probe.privateKey, Uint8Array.from(key)); out.smallOrder.push("used"); }
          catch (e) { out.smallOrder.push(e.name); }
        }
        return out;
        """,
        {
            "keys": [bank_text, proto.ed25519_public_text(following.public_key())],
            "good": good,
            "refused": refused + text_answers,
            "smallOrder": [list(k) for k in SMALL_ORDER],
        },
    )
    assert result["good"] == result["goodText"] == result["nextKey"] == "trusted"
    assert result["refused"] == [
        [name, "UntrustedAnswerError"] for name, _ in refused + text_answers
    ]
    assert result["smallOrder"] == ["UntrustedAnswerError"] * len(SMALL_ORDER)


def _json_with(answer: dict[str, Any], old: str, new: str) -> str:
    text = json.dumps(answer, separators=(", ", ": "))
    assert old in text
    return text.replace(old, new)


# A bank inside the page: it signs round one with arg.signer after `tamper` changed the
# transcript, and answers round two with a confirmation that matches nothing. Every
# request is logged, so a test sees what left the phone.
FAKE_BANK = """
const a = await import(APP + "activation.js");
const b = await import(APP + "bytes.js");
const signer = await crypto.subtle.importKey("jwk", arg.signer, { name: "Ed25519" }, false, ["sign"]);
const server = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
const serverPublic = new Uint8Array(await crypto.subtle.exportKey("raw", server.publicKey));
const json = (status, data) => new Response(JSON.stringify(data), { status });
const fakeBank = (tamper, log) => async (url, init) => {
  log.push([new URL(url).pathname, init.body]);
  const body = JSON.parse(init.body);
  if (url.endsWith("/finish")) {
    const mac = b.b64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
    return json(200, { status: "activated", transcript_id: body.transcript_id, server_confirmation: mac });
  }
  const t = { transcriptId: crypto.getRandomValues(new Uint8Array(16)), serviceId: body.service_id,
    userId: body.user_id, appPublicKey: b.b64urlDecode(body.app_public_key, 32), serverPublicKey: serverPublic,
    algorithm: "SHA1", digits: 6, period: 30, serverTime: 1795000000, expiresAt: 1795000600 };
  const unsigned = tamper(t) === "unsigned";
  const message = b.concat(b.utf8(a.PROTOCOL + " server-answer\\0"), a.encodeTranscript(t));
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, signer, message));
  return json(200, { protocol: a.PROTOCOL, transcript_id: b.b64urlEncode(t.transcriptId),
    service_id: t.serviceId, user_id: t.userId, app_public_key: b.b64urlEncode(t.appPublicKey),
    server_public_key: b.b64urlEncode(t.serverPublicKey), algorithm: t.algorithm, digits: t.digits,
    period: t.period, server_time: t.serverTime, expires_at: t.expiresAt,
    signature: unsigned ? "" : b.b64urlEncode(signature) });
};
// Scripted answers in turn: "network" (fetch fails), a status, or [status, body text].
const scripted = (answers, log) => async (url, init) => {
  log.push([new URL(url).pathname, init.body]);
  const next = answers[Math.min(log.length, answers.length) - 1];
  if (next === "network") throw new TypeError("Failed to fetch");
  const [status, text] = Array.isArray(next) ? next : [next, "{}"];
  return new Response(text, { status });
};
const request = { bankUrl: "https://bank.example.jp/", serviceId: "100001", userId: "123456789012",
  password: "4821", trustedKeys: [arg.bankKey], retryDelay: 1 };
const run = async (changes) => {
  const log = [];
  const fetch = changes.tamper ? fakeBank(changes.tamper, log) : scripted(changes.answers ?? [], log);
  try {
    await a.activate({ ...request, ...changes, fetch });
    return { result: "activated", log };
  } catch (e) {
    return { result: [e.name, e.field ?? e.code ?? null, e.status ?? null], log };
  }
};
const refusal = JSON.stringify({ error: { code: "activation_failed", message: "ja", message_en: "en" } });
const other = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
const otherPublic = new Uint8Array(await crypto.subtle.exportKey("raw", other.publicKey));
const cases = {
  otherAppKey: { tamper: (t) => { t.appPublicKey = otherPublic; } },
  otherUser: { tamper: (t) => { t.userId = "123456789013"; } },
  otherService: { tamper: (t) => { t.serviceId = "100002"; } },
  unsigned: { tamper: () => "unsigned" },
  smallOrderServerKey: { tamper: (t) => { t.serverPublicKey = new Uint8Array(32); } },
  confirmationMismatch: { tamper: () => {} },
  badUserId: { userId: "12345", tamper: () => {} },
  badServiceId: { serviceId: "", tamper: () => {} },
  badPassword: { password: "12", tamper: () => {} },
  plainHttpBank: { bankUrl: "http://bank.example.jp", tamper: () => {} },
  retriedThenRefused: { answers: ["network", 503, [403, refusal]] },
  unreachable: { answers: ["network", 502, "network", [200, "{}"]] },
  badRequestNotRetried: { answers: [[400, JSON.stringify({ error: { code: "invalid_field" } })], 503] },
  notJson: { answers: [[200, "<html>"]] },
  errorWithoutCode: { answers: [[403, "{}"]] },
};
const out = {};
for (const [name, changes] of Object.entries(cases)) out[name] = await run(changes);
return out;
"""


def test_activate_sends_nothing_more_unless_every_check_passes(js_page: Page) -> None:
    signer = Ed25519PrivateKey.generate()
    bank_key = proto.ed25519_public_text(signer.public_key())
    out = run_js(js_page, FAKE_BANK, {"signer": _jwk(signer), "bankKey": bank_key})
    untrusted = ["UntrustedAnswerError", None, None]
    start = "/api/v1/activation/start"
    # §1.5: a signed answer for another request, an unsigned one, a small-order key:
    # round one only, nothing derived from the password leaves the phone.
    for name in ("otherAppKey", "otherUser", "otherService", "unsigned", "smallOrderServerKey"):
        assert out[name]["result"] == untrusted, name
        assert [path for path, _ in out[name]["log"]] == [start], name
    assert out["confirmationMismatch"]["result"] == untrusted
    assert len(out["confirmationMismatch"]["log"]) == 2
    for name, field in (
        ("badUserId", "userId"),
        ("badServiceId", "serviceId"),
        ("badPassword", "password"),
        ("plainHttpBank", "bankUrl"),
    ):
        assert out[name] == {"result": ["InvalidInputError", field, None], "log": []}, name
    # The same request is resent after a network error or a 5xx, three times at most.
    retried = out["retriedThenRefused"]
    assert retried["result"] == ["ActivationRefusedError", "activation_failed", 403]
    assert len(retried["log"]) == 3
    assert len({body for _, body in retried["log"]}) == 1
    assert out["unreachable"]["result"] == ["TransportError", None, None]
    assert len(out["unreachable"]["log"]) == 3
    assert out["badRequestNotRetried"]["result"] == ["ActivationRefusedError", "invalid_field", 400]
    assert len(out["badRequestNotRetried"]["log"]) == 1
    assert (
        out["notJson"]["result"]
        == out["errorWithoutCode"]["result"]
        == [
            "TransportError",
            None,
            None,
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_activate_against_the_live_bank(js_page: Page, live_server: LiveServer) -> None:
    token = issue_token()
    moment = 1_800_000_000
    out = run_js(
        js_page,
        """
        const a = await import(APP + "activation.js");
        const o = await import(APP + "oath.js");
        const { hex } = await import(APP + "bytes.js");
        const request = { bankUrl: location.origin, serviceId: arg.serviceId, userId: arg.userId,
                          trustedKeys: [arg.bankKey], retryDelay: 10 };
        const out = {};
        try { await a.activate({ ...request, password: "0000" }); out.wrong = "activated"; }
        catch (e) { out.wrong = [e.name, e.code, e.status, e.message !== "", e.messageEn !== ""]; }
        // A relay that puts its own key into round one gets a real bank signature over it.
        const relayKey = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
        const relayPublic = new Uint8Array(await crypto.subtle.exportKey("raw", relayKey.publicKey));
        const relay = async (url, init) => {
          const body = JSON.parse(init.body);
          body.app_public_key = (await import(APP + "bytes.js")).b64urlEncode(relayPublic);
          return fetch(url, { ...init, body: JSON.stringify(body) });
        };
        try { await a.activate({ ...request, password: arg.password, fetch: relay }); out.relay = "activated"; }
        catch (e) { out.relay = e.name; }
        // The first answer of round two is lost on the way back: the same request is resent.
        const finishes = [];
        const lossy = async (url, init) => {
          const response = await fetch(url, init);
          if (url.endsWith("/finish")) {
            finishes.push(init.body);
            if (finishes.length === 1) { await response.arrayBuffer(); throw new TypeError("connection reset"); }
          }
          return response;
        };
        const token = await a.activate({ ...request, password: "４８２１", fetch: lossy });
        out.token = { ...token, seed: hex(token.seed), signingKey: hex(token.signingKey),
                      code: await o.totp(token.seed, arg.moment, token) };
        out.resent = finishes.length === 2 && finishes[0] === finishes[1];
        return out;
        """,
        {
            "serviceId": settings.NETBANK_OTP["service_id"],
            "userId": token.user_id,
            "bankKey": signing_public_key_text(),
            "password": ACTIVATION_PASSWORD,
            "moment": moment,
        },
    )
    # The refused round two shows in the console as a failed fetch; that is expected here.
    watch = browser_support.watch_of(js_page)
    watch.console_errors[:] = [e for e in watch.console_errors if "/api/v1/activation/" not in e]
    assert out["wrong"] == ["ActivationRefusedError", "activation_failed", 403, True, True]
    assert out["relay"] == "UntrustedAnswerError"
    assert out["resent"] is True
    token.refresh_from_db()
    assert token.state == Token.State.ACTIVATED
    assert token.activation_failures == 1
    app = out["token"]
    seed = token_seed(token)
    assert app["seed"] == seed.hex()
    assert app["signingKey"] == token_signing_key(token).hex()
    assert (app["serviceId"], app["userId"]) == (settings.NETBANK_OTP["service_id"], token.user_id)
    assert (app["algorithm"], app["digits"], app["period"]) == (
        token.algorithm,
        token.digits,
        token.period,
    )
    assert abs(app["serverTimeOffset"]) < 5
    code = totp(seed, moment, algorithm=token.algorithm, digits=token.digits, period=token.period)
    assert app["code"] == code
