"""The phone app's vault (static/otp/app/vault.js) in real Chromium: the Python app's PIN
rules (token_app/vault.py), the content key under PBKDF2 and a non-extractable device key."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from pytest_django.live_server_helper import LiveServer

from tests.webapp.conftest import run_js
from tests.webapp.vaultjs import PRELUDE

T0 = 1_800_000_000_000  # an injected clock, in milliseconds


def js(page: Page, body: str, arg: Any = None) -> Any:
    return run_js(page, PRELUDE + body, arg)


def test_round_trip_wrong_pins_delays_and_the_tenth_wipes(js_page: Page) -> None:
    r = js(
        js_page,
        """
        const T0 = arg, log = {};
        const token = newToken();
        log.existsBefore = await v.vaultExists();
        // Full-width digits (a Japanese keyboard) are the same PIN as ASCII ones.
        const created = await v.createVault(token, "１２３４５６", { now: T0 });
        log.createdSecrets = secrets(created.token);
        log.again = await outcome(v.createVault(newToken(), "999999"));
        const opened = await v.unlock("123456", { now: T0 });
        log.want = secrets(token);
        log.got = secrets(opened.token);
        log.fields = Object.fromEntries(["algorithm", "digits", "period", "serviceId", "userId",
          "bankUrl", "keyFingerprint", "serverTimeOffset"].map((f) => [f, opened.token[f] === token[f]]));
        // Three wrong PINs: two free, the third makes the next try wait 15 s. The third and
        // fourth at once (two windows): counted in turn, so the fourth has to wait.
        log.wrong = [];
        for (let i = 0; i < 2; i++) log.wrong.push(await outcome(v.unlock("000000", { now: T0 })));
        const both = await Promise.all([1, 2].map(() => outcome(v.unlock("000000", { now: T0 }))));
        log.both = both.map((e) => e.code).sort();
        log.wrong.push(both.find((e) => e.code === "wrong_pin"));
        log.early = await outcome(v.unlock("123456", { now: T0 + 14_999 }));
        log.afterEarly = await v.status({ now: T0 + 14_999 });
        await v.unlock("123456", { now: T0 + 15_000 });
        log.afterRight = await v.status({ now: T0 + 15_000 });
        // Nine wrong PINs in a row, each as soon as allowed: the waits, then the tenth.
        log.waits = [];
        let now = T0 + 20_000;
        for (let i = 1; i <= 9; i++) {
          const e = await outcome(v.unlock("654321", { now }));
          log.waits.push([e.code, e.attemptsLeft, e.retryAt === null ? null : e.retryAt - now]);
          if (e.retryAt !== null) now = e.retryAt;
        }
        log.waitsStatus = await v.status({ now });
        log.keysBefore = await rawKeys();
        log.tenth = await outcome(v.unlock("654321", { now }));
        log.existsAfter = await v.vaultExists();
        log.keysAfter = await rawKeys();
        log.statusAfter = await outcome(v.status());
        log.unlockAfter = await outcome(v.unlock("123456"));
        return log;
        """,
        T0,
    )
    assert r["existsBefore"] is False
    assert r["got"] == r["want"] == r["createdSecrets"]
    assert all(r["fields"].values()), r["fields"]
    assert r["again"]["code"] == "vault_exists"
    assert [(e["code"], e["attemptsLeft"], e["retryAt"]) for e in r["wrong"]] == [
        ("wrong_pin", 9, None),
        ("wrong_pin", 8, None),
        ("wrong_pin", 7, T0 + 15_000),
    ]
    assert r["both"] == ["pin_delay", "wrong_pin"]
    # Too soon: refused without counting.
    assert r["early"] == {
        "name": "PinDelayError",
        "code": "pin_delay",
        "attemptsLeft": 7,
        "retryAt": T0 + 15_000,
        "waitSeconds": 1,
    }
    assert r["afterEarly"]["failures"] == 3
    assert r["afterEarly"]["retryAt"] == T0 + 15_000
    assert (r["afterRight"]["failures"], r["afterRight"]["retryAt"]) == (0, None)
    assert r["waits"] == [
        ["wrong_pin", 9, None],
        ["wrong_pin", 8, None],
        ["wrong_pin", 7, 15_000],
        ["wrong_pin", 6, 30_000],
        ["wrong_pin", 5, 60_000],
        ["wrong_pin", 4, 120_000],
        ["wrong_pin", 3, 240_000],
        ["wrong_pin", 2, 480_000],
        ["wrong_pin", 1, 960_000],
    ]
    assert r["waitsStatus"]["failures"] == 9
    assert r["waitsStatus"]["warn"] is True
    assert sorted(r["keysBefore"]) == ["deviceKey", "token"]
    assert r["tenth"]["code"] == "vault_wiped"
    assert r["existsAfter"] is False
    assert r["keysAfter"] == []  # the device key went with the token
    assert r["statusAfter"]["code"] == "vault_not_found"
    assert r["unlockAfter"]["code"] == "vault_not_found"


COUNTED_BEFORE = """
await v.createVault(newToken(), "2580");
// The right PIN: a try that finished would leave the counter at 0.
v.unlock("2580");
for (const until = Date.now() + 5000; Date.now() < until; ) {
  if ((await v.status()).failures === 1) return "counted";
  await new Promise((r) => setTimeout(r, 1));
}
return "not counted";
"""


def test_a_try_is_counted_before_the_key_derivation(js_page: Page) -> None:
    page = js_page
    # Close the page (the app killed) while a try with the right PIN is in its key
    # derivation. On a busy machine the derivation may end before the close lands; then
    # the try was not killed, and the test kills another one.
    for _attempt in range(5):
        assert js(page, COUNTED_BEFORE) == "counted"
        context = page.context
        page.close()
        page = context.new_page()
        page.goto("/app/")
        before = js(page, "return (await v.status()).failures;")
        if before == 1:
            break
        assert before == 0  # the try finished: the right PIN reset its own count
        js(page, "await v.wipe(); return true;")
    else:
        pytest.fail("the key derivation always ended before the page closed")
    r = js(
        page,
        """
        await v.unlock("2580");
        const log = [(await v.status()).failures];
        // Killed during the tenth try: the next one, even with the right PIN, wipes.
        await rawPut("token", { ...(await rawGet("token")), failures: 10, lastFailureAt: 0 });
        log.push((await outcome(v.unlock("2580"))).code, await rawKeys());
        return log;
        """,
    )
    assert r == [0, "vault_wiped", []]  # paid for, reset by the right PIN; the tenth wipes


def test_change_pin_device_key_form_errors_and_a_copy_elsewhere(
    js_page: Page, browser: Browser, live_server: LiveServer
) -> None:
    r = js(
        js_page,
        """
        const log = {};
        log.badCreate = [await outcome(v.createVault(newToken(), "12")),
                         await outcome(v.createVault({ ...newToken(), seed: "abc" }, "1234"))];
        log.existsAfterBad = await v.vaultExists();
        const token = newToken();
        await v.createVault(token, "2468");
        // The PIN's form: refused before anything, never counted.
        log.forms = [];
        for (const pin of ["123", "123456789", "12a4", "", " 1234", "1234 ", "①②③④", null, 1234]) {
          log.forms.push((await outcome(v.unlock(pin))).code);
        }
        log.formsFailures = (await v.status()).failures;
        log.changeWrongOld = await outcome(v.changePin("1111", "13579"));
        log.changeBadNew = await outcome(v.changePin("2468", "12"));
        log.failuresAfterChangeTries = (await v.status()).failures;
        await v.changePin("2468", "１３５７９");
        log.oldPin = (await outcome(v.unlock("2468"))).code;
        log.newPin = secrets((await v.unlock("13579")).token);
        log.want = secrets(token);
        // The device key: a CryptoKey the page cannot export.
        const dk = await rawGet("deviceKey");
        log.deviceKey = { type: dk.constructor.name, extractable: dk.extractable, alg: dk.algorithm.name,
                          export: (await outcome(crypto.subtle.exportKey("raw", dk))).name };
        const rec = await rawGet("token");
        log.kdf = rec.kdf;
        log.saltLength = rec.wrapped.pin.salt.length;
        const stored = hex(rec.secret.data) + hex(rec.wrapped.pin.data);
        log.plainSeedStored = stored.includes(hex(token.seed)) || stored.includes(hex(token.signingKey));
        log.readable = [rec.serviceId, rec.userId, rec.failures];
        // The token's settings are bound to its secrets: an edited one is refused as such
        // (after the right PIN, which resets the counter), never taken for a wrong PIN.
        await rawPut("token", { ...rec, digits: 8 });
        log.edited = (await outcome(v.unlock("13579"))).code;
        log.editedFailures = (await v.status()).failures;
        // Fewer PBKDF2 iterations written in: refused before any try.
        await rawPut("token", { ...rec, kdf: { ...rec.kdf, iterations: 1000 } });
        log.lowered = (await outcome(v.unlock("13579"))).code;
        log.loweredFailures = (await v.status()).failures;
        await rawPut("token", rec);
        await v.updateOffset(3.5);
        log.offset = [(await v.status()).serverTimeOffset, (await v.unlock("13579")).token.serverTimeOffset];
        log.badOffset = (await outcome(v.updateOffset(NaN))).code;
        return log;
        """,
    )
    assert [e["code"] for e in r["badCreate"]] == ["invalid_pin", "invalid_token"]
    assert r["existsAfterBad"] is False
    assert r["forms"] == ["invalid_pin"] * 9
    assert r["formsFailures"] == 0
    assert r["changeWrongOld"]["code"] == "wrong_pin"
    assert r["changeBadNew"]["code"] == "invalid_pin"
    assert r["failuresAfterChangeTries"] == 1  # the current PIN counts like any try
    assert r["oldPin"] == "wrong_pin"
    assert r["newPin"] == r["want"]
    assert r["deviceKey"] == {
        "type": "CryptoKey",
        "extractable": False,
        "alg": "AES-GCM",
        "export": "InvalidAccessError",
    }
    assert r["kdf"]["iterations"] >= 600_000
    assert r["kdf"]["hash"] == "SHA-256"
    assert r["saltLength"] == 16
    assert r["plainSeedStored"] is False
    assert r["readable"] == ["12345678", "taro01", 0]
    assert (r["edited"], r["editedFailures"]) == ("vault_tampered", 0)
    assert (r["lowered"], r["loweredFailures"]) == ("vault_tampered", 0)
    assert r["offset"] == [3.5, 3.5]
    assert r["badOffset"] == "invalid_token"

    # The same records in another browser profile (another context): useless, even with the
    # right PIN, and never counted as a wrong one.
    copy = js(js_page, 'return toWire(await rawGet("token"));')
    other = browser.new_context(base_url=live_server.url)
    try:
        page = other.new_page()
        page.goto("/app/")
        r2 = js(
            page,
            """
            const rec = fromWire(arg), log = {};
            await v.vaultExists();  // creates the database
            await rawPut("token", rec);
            log.noKey = (await outcome(v.unlock("13579"))).code;
            log.noKeyFailures = (await v.status()).failures;
            // This profile's own device key does not open it either.
            await v.wipe();
            await v.createVault(newToken(), "13579");
            await rawPut("token", rec);
            log.otherKey = (await outcome(v.unlock("13579"))).code;
            log.otherKeyFailures = (await v.status()).failures;
            return log;
            """,
            copy,
        )
    finally:
        other.close()
    assert r2 == {
        "noKey": "device_secret_missing",
        "noKeyFailures": 0,
        "otherKey": "vault_tampered",
        "otherKeyFailures": 0,
    }
