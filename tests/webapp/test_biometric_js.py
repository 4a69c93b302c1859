"""Biometric unlock (static/otp/app/biometric.js) against Chromium's virtual authenticator:
a platform authenticator with user verification and PRF, driven through DevTools."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import CDPSession, Page

from tests.webapp.conftest import run_js
from tests.webapp.vaultjs import PRELUDE

BIO = PRELUDE + 'const b = await import(APP + "biometric.js");\n'


def js(page: Page, body: str, arg: Any = None) -> Any:
    return run_js(page, BIO + body, arg)


def add_authenticator(cdp: CDPSession, *, prf: bool = True) -> str:
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "hasPrf": prf,
    }
    answer = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return str(answer["authenticatorId"])


def test_biometric_unlock_with_the_prf_and_its_refusals(js_page: Page) -> None:
    page = js_page
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    # No platform authenticator yet: no offer, and enrolment says why.
    r = js(
        page,
        """
        const handle = await v.createVault(newToken(), "8642");
        return [await b.prfSupported(), (await outcome(b.enrolBiometric(handle))).code];
        """,
    )
    assert r == [False, "biometric_unsupported"]
    # A platform authenticator without PRF: only create()'s extension results tell.
    no_prf = add_authenticator(cdp, prf=False)
    r = js(
        page,
        """
        const handle = await v.unlock("8642");
        return [await b.prfSupported(), (await outcome(b.enrolBiometric(handle))).code,
                (await v.status()).biometric];
        """,
    )
    assert r == [True, "biometric_unsupported", False]
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": no_prf})
    first = add_authenticator(cdp)
    r = js(
        page,
        """
        const log = {};
        log.supported = await b.prfSupported();
        const token = newToken();
        log.want = secrets(token);
        await v.wipe();
        await v.createVault(token, "8642");
        log.notEnrolled = (await outcome(b.unlockWithBiometric())).code;
        const handle = await v.unlock("8642");
        await b.enrolBiometric(handle);
        const rec = await rawGet("token");
        log.stored = { credential: rec.wrapped.prf.credentialId.length > 0, salt: rec.wrapped.prf.salt.length,
                       biometric: (await v.status()).biometric };
        log.wrong = (await outcome(v.unlock("1111"))).code;  // one PIN failure on the counter
        log.bio = secrets((await b.unlockWithBiometric()).token);
        log.failuresAfterBio = (await v.status()).failures;  // neither counted nor reset
        // Some other 32 bytes are not this authenticator's answer.
        log.otherPrf = (await outcome(v.unlockWithPrf(crypto.getRandomValues(new Uint8Array(32))))).code;
        return log;
        """,
    )
    assert r["supported"] is True
    assert r["notEnrolled"] == "biometric_not_enrolled"
    assert r["stored"] == {"credential": True, "salt": 32, "biometric": True}
    assert r["wrong"] == "wrong_pin"
    want = r["want"]
    assert r["bio"] == want
    assert r["failuresAfterBio"] == 1
    assert r["otherPrf"] == "biometric_refused"

    # The user not verified (a finger not recognised): refused, no PIN failure, PIN works.
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": first, "isUserVerified": False})
    r = js(
        page,
        """
        const e = await outcome(b.unlockWithBiometric());
        return [e.name, e.code, (await v.status()).failures, secrets((await v.unlock("8642")).token)];
        """,
    )
    assert r == ["BiometricError", "biometric_cancelled", 1, want]
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": first, "isUserVerified": True})

    # Another authenticator, never enrolled, cannot unlock.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
    second = add_authenticator(cdp)
    r = js(
        page,
        """
        const log = {};
        await outcome(v.unlock("1111"));
        log.other = (await outcome(b.unlockWithBiometric())).code;
        log.failures = (await v.status()).failures;
        // Enrolled anew on it, it works; switched off, the PIN alone opens.
        await b.enrolBiometric(await v.unlock("8642"));
        log.reenrolled = secrets((await b.unlockWithBiometric()).token);
        await v.clearPrf();
        log.cleared = [(await outcome(b.unlockWithBiometric())).code, (await v.status()).biometric];
        log.pin = secrets((await v.unlock("8642")).token);
        // A vault whose tenth try was counted (the app killed mid-try) is wiped, not opened.
        await b.enrolBiometric(await v.unlock("8642"));
        await rawPut("token", { ...(await rawGet("token")), failures: 10 });
        log.wiped = (await outcome(b.unlockWithBiometric())).code;
        log.keys = await rawKeys();
        return log;
        """,
    )
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": second})
    assert r["other"] == "biometric_cancelled"
    assert r["failures"] == 1
    assert r["reenrolled"] == r["pin"] == want
    assert r["cleared"] == ["biometric_not_enrolled", False]
    assert r["wiped"] == "vault_wiped"
    assert r["keys"] == []
