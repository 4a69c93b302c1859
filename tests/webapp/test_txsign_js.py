"""The phone app's txsign.js: the subkeys of docs/protocols.md §4.1, and the same pending
fetch body and 取引認証番号 as netbank.token_app.signing for many questions."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page

from netbank.oath import txquestion as q
from netbank.token_app.signing import pending_request, sign_question
from tests.webapp.conftest import run_js
from tests.webapp.test_question_js import MALFORMED, random_request


def test_subkeys_pending_requests_and_codes_equal_python(js_page: Page) -> None:
    cases = []
    for purpose in "1231231231":
        key = secrets.token_bytes(32)
        question = q.build_question(
            random_request(purpose, scheduled=secrets.choice((True, False)))
        )
        time = 1_700_000_000 + secrets.randbelow(10**8)
        user_id = str(10**11 + secrets.randbelow(9 * 10**11))
        service_id = secrets.choice(("100001", "A-z_9"))
        cases.append(
            {
                "key": list(key),
                "question": question,
                "who": {"serviceId": service_id, "userId": user_id, "time": time + 0.75},
                "code": sign_question(key, question),
                "pending": pending_request(key, service_id=service_id, user_id=user_id, time=time),
            }
        )
    out = run_js(
        js_page,
        """
        const t = await import(APP + "txsign.js");
        const { hex } = await import(APP + "bytes.js");
        const vector = Uint8Array.from({ length: 32 }, (_, i) => i);
        const refused = async (f) => { try { await f(); return "accepted"; } catch (e) { return e.name; } };
        const key = Uint8Array.from(arg.cases[0].key);
        return {
          subkeys: [hex(await t.signingSubkey(vector, "ocra")), hex(await t.signingSubkey(vector, "pending"))],
          results: await Promise.all(arg.cases.map(async (c) => ({
            code: await t.signQuestion(Uint8Array.from(c.key), c.question),
            pending: await t.pendingRequest(Uint8Array.from(c.key), c.who),
          }))),
          refused: [
            ...await Promise.all(arg.malformed.map((m) => refused(() => t.signQuestion(key, m)))),
            await refused(() => t.signQuestion(key.slice(1), arg.cases[0].question)),
            await refused(() => t.signingSubkey(key, "other")),
            await refused(() => t.pendingRequest(key, { serviceId: "1", userId: "2", time: NaN })),
          ],
        };
        """,
        {"cases": cases, "malformed": MALFORMED},
    )
    # docs/protocols.md §4.1, for the key 00 01 … 1f.
    assert out["subkeys"] == [
        "befc8a8b2dbe014c636ab1fbbb9e82d1984c11d56f7b8df7b89f56c5d44fab9b",
        "324153356f2c5b058663b76326ddcaaed48456f08e66389e0d78a8adce7cf042",
    ]
    assert out["results"] == [{"code": c["code"], "pending": c["pending"]} for c in cases]
    assert out["refused"] == ["SigningQuestionError"] * len(MALFORMED) + ["OathError"] * 3
