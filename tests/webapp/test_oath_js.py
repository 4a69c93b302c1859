"""The phone app's oath.js against the RFC vectors and against netbank.oath.

Every vector of RFC 4226 appendix D, RFC 6238 appendix B and RFC 6287 appendix C runs in
one page evaluation per RFC, in real Chromium, through the module the app imports.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from playwright.sync_api import Page

from netbank.oath import hotp, ocra, totp
from tests.oath import vectors as v
from tests.webapp.conftest import run_js

# Runs a list of cases [name, args...] and returns each result or the error's name.
RUN_CASES = """
const o = await import(APP + "oath.js");
const b = await import(APP + "bytes.js");
const key = (h) => b.fromHex(h);
const out = [];
for (const [fn, args] of arg) {
  try {
    // A counter above 2**53 comes as text and goes in as a BigInt.
    const counter = fn === "hotp" && typeof args[1] === "string" ? BigInt(args[1]) : args[1];
    if (fn === "hotp") out.push(await o.hotp(key(args[0]), counter, args[2]));
    else if (fn === "totp") out.push(await o.totp(key(args[0]), args[1], args[2]));
    else {
      const opts = { ...args[2] };
      if (typeof opts.password === "object" && opts.password) opts.password = key(opts.password.hex);
      if (opts.session) opts.session = key(opts.session);
      out.push(await o.ocra(args[0], key(args[1]), opts));
    }
  } catch (e) {
    out.push(e.name + ": " + e.message);
  }
}
return out;
"""


def _run(page: Page, cases: list[tuple[str, list[object]]]) -> list[str]:
    results: list[str] = run_js(page, RUN_CASES, cases)
    return results


def test_rfc4226_and_rfc6238_vectors(js_page: Page) -> None:
    cases: list[tuple[str, list[object]]] = [
        ("hotp", [v.RFC4226_KEY.hex(), counter, {}]) for counter, *_ in v.RFC4226
    ]
    expected = [code for *_, code in v.RFC4226]
    for time, _t, *codes in v.RFC6238:
        for algorithm, code in zip(("SHA1", "SHA256", "SHA512"), codes, strict=True):
            key = v.RFC6238_KEYS[algorithm].hex()
            cases.append(("totp", [key, time, {"algorithm": algorithm, "digits": 8}]))
            expected.append(code)
    assert _run(js_page, cases) == expected


def test_rfc6287_vectors(js_page: Page) -> None:
    k20, k32, k64 = v.OCRA_KEY20.hex(), v.OCRA_KEY32.hex(), v.OCRA_KEY64.hex()
    pin = {"hex": v.OCRA_PIN_SHA1.hex()}
    cases: list[tuple[str, list[object]]] = []
    expected: list[str] = []

    def add(suite: str, key: str, options: dict[str, object], response: str) -> None:
        cases.append(("ocra", [suite, key, options]))
        expected.append(response)

    for q, r in v.OCRA_SHA1_QN08:
        add("OCRA-1:HOTP-SHA1-6:QN08", k20, {"question": q}, r)
    for c, r in v.OCRA_SHA256_C_QN08_PSHA1:
        # The PIN as text (hashed by the module) and as its hash give the same response.
        inputs = {"question": "12345678", "counter": c}
        add("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", k32, {**inputs, "password": "1234"}, r)
        add("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", k32, {**inputs, "password": pin}, r)
    for q, r in v.OCRA_SHA256_QN08_PSHA1:
        add("OCRA-1:HOTP-SHA256-8:QN08-PSHA1", k32, {"question": q, "password": "1234"}, r)
    for c, q, r in v.OCRA_SHA512_C_QN08:
        add("OCRA-1:HOTP-SHA512-8:C-QN08", k64, {"question": q, "counter": c}, r)
    for q, r in v.OCRA_SHA512_QN08_T1M:
        add("OCRA-1:HOTP-SHA512-8:QN08-T1M", k64, {"question": q, "timestamp": v.OCRA_TIMESTAMP}, r)
    for suite, key, pin_hash, q, r in v.OCRA_MUTUAL:
        options: dict[str, object] = {"question": q}
        if pin_hash is not None:
            options["password"] = {"hex": pin_hash.hex()}
        add(suite, key.hex(), options, r)
    for q, r in v.OCRA_SIGNATURE_SHA256_QA08:
        add("OCRA-1:HOTP-SHA256-8:QA08", k32, {"question": q}, r)
    for q, r in v.OCRA_SIGNATURE_SHA512_QA10_T1M:
        add("OCRA-1:HOTP-SHA512-8:QA10-T1M", k64, {"question": q, "timestamp": v.OCRA_TIMESTAMP}, r)
    assert _run(js_page, cases) == expected


def test_agrees_with_netbank_oath_and_refuses_what_it_refuses(js_page: Page) -> None:
    cases: list[tuple[str, list[object]]] = []
    expected: list[str] = []
    for algorithm, size in (("SHA1", 20), ("SHA256", 32), ("SHA512", 64), ("SHA1", 16)):
        for digits in (6, 7, 8):
            key = secrets.token_bytes(size)
            counter = secrets.randbelow(2**64)
            moment = secrets.randbelow(2**34)
            period = secrets.choice((30, 60))
            options: dict[str, Any] = {"algorithm": algorithm, "digits": digits}
            cases.append(("hotp", [key.hex(), str(counter), options]))
            expected.append(hotp(key, counter, **options))
            cases.append(("totp", [key.hex(), moment, {**options, "period": period}]))
            expected.append(totp(key, moment, period=period, **options))
    session = secrets.token_bytes(64)
    ocra_cases: list[tuple[str, dict[str, Any]]] = [
        ("OCRA-1:HOTP-SHA1-6:QN08-S064", {"question": "31415926", "session_info": session}),
        ("OCRA-1:HOTP-SHA256-10:QH40-S064-T30S", {"question": "A1b2C", "session_info": session}),
        ("OCRA-1:HOTP-SHA512-4:C-QA64-PSHA256-T2H", {"question": "Zz09" * 16, "counter": 7}),
        ("OCRA-1:HOTP-SHA256-8:QN54", {"question": "1" + "0" * 53}),
    ]
    for suite, inputs in ocra_cases:
        key = secrets.token_bytes(32)
        js_options: dict[str, object] = {"question": inputs["question"]}
        py_options = dict(inputs)
        if "session_info" in inputs:
            js_options["session"] = session.hex()
        if "counter" in inputs:
            js_options["counter"] = inputs["counter"]
        if "-T" in suite:
            py_options["timestamp_steps"] = js_options["timestamp"] = secrets.randbelow(2**40)
        if "PSHA256" in suite:
            js_options["password"] = "ｐｉｎ"
            py_options["password_hash"] = hashlib.sha256("ｐｉｎ".encode()).digest()
        cases.append(("ocra", [suite, key.hex(), js_options]))
        expected.append(ocra(suite, key, **py_options))

    refusals: list[tuple[str, list[object]]] = [
        ("hotp", ["00" * 15, 0, {}]),  # key under 128 bits
        ("hotp", ["00" * 20, 0, {"digits": 9}]),
        ("hotp", ["00" * 20, 0, {"algorithm": "MD5"}]),
        ("hotp", ["00" * 20, -1, {}]),
        ("hotp", ["00" * 20, 1.5, {}]),
        ("totp", ["00" * 20, -1, {}]),  # before T0
        ("totp", ["00" * 20, 100, {"period": 0}]),
        ("ocra", ["OCRA-2:HOTP-SHA1-6:QN08", "00" * 20, {"question": "1234"}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-06:QN08", "00" * 20, {"question": "1234"}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-0:QN08", "00" * 20, {"question": "1234"}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-6:QN08-T60M", "00" * 20, {"question": "1234"}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-6:QN08-S000", "00" * 20, {"question": "1234"}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1", "00" * 20, {"question": "1234"}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-6:QN08", "00" * 20, {"question": "12a4"}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-6:QN08", "00" * 20, {"question": "123"}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-6:QA08", "00" * 20, {"question": "SIG 1000"}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-6:QN08", "00" * 20, {"question": "1234", "counter": 1}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-6:C-QN08", "00" * 20, {"question": "1234"}]),
        ("ocra", ["OCRA-1:HOTP-SHA1-6:QN08-PSHA1", "00" * 20, {"question": "1234"}]),
        (
            "ocra",
            ["OCRA-1:HOTP-SHA1-6:QN08-S064", "00" * 20, {"question": "1234", "session": "00"}],
        ),
        ("ocra", ["OCRA-1:HOTP-SHA1-6:QN08-T1M", "00" * 20, {"question": "1234"}]),
    ]
    results = _run(js_page, cases + refusals)
    assert results[: len(cases)] == expected
    for case, result in zip(refusals, results[len(cases) :], strict=True):
        assert result.startswith("OathError: "), (case, result)
