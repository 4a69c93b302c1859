"""The banking screens as a customer uses them: 入力 → 確認 → 完了, and bad input."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netbank import clock
from netbank.banking.limits import daily_limit
from netbank.banking.models import Account, AccountType, Payee, SigningChallenge, Transfer
from netbank.banking.payees import payee_seed
from netbank.banking.selectors import ledger_check
from netbank.customers import lockout
from netbank.customers.models import Customer, FailureCounter
from netbank.otp.models import Token
from netbank.token_app.signing import sign_transaction
from tests.banking.factories import (
    TRANSACTION_PASSWORD,
    customer_with_account,
    issue_token,
    login,
    open_account,
    other_bank,
    sign,
)

pytestmark = pytest.mark.django_db


def balance(account: Account) -> int:
    account.refresh_from_db()
    return account.balance


def idempotency_key(html: str) -> str:
    match = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def confirm_page(client: Client) -> tuple[str, str]:
    r = client.get(reverse("banking:transfer_confirm"))
    assert r.status_code == 200, r.content.decode()[:2000]
    html = r.content.decode()
    return html, idempotency_key(html)


def new_payee_input(src: Account, **overrides: str) -> dict[str, str]:
    data = {
        "from_account": str(src.pk),
        "bank_code": "0005",
        "branch_code": "123",
        "account_type": AccountType.ORDINARY,
        "account_number": "7654321",
        "name_kana": "スズキ ハナコ",
        "amount": "20000",
        "scheduled_for": "",
    }
    data.update(overrides)
    return data


def transaction_password_failures(customer: Customer) -> int:
    row = FailureCounter.objects.filter(
        kind=lockout.TRANSACTION_PASSWORD, subject=lockout.subject_for_customer(customer)
    ).first()
    return row.consecutive_failures if row else 0


# --- 残高照会 and 入出金明細 ------------------------------------------------------------


def test_balance_needs_login() -> None:
    r = Client().get(reverse("banking:balance"))
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("customers:login"))


def test_balance_shows_each_account_and_the_total() -> None:
    customer, src = customer_with_account(123_456)
    open_account(customer, balance=1_000, account_type=AccountType.SAVINGS)
    client = login(customer)
    html = client.get(reverse("banking:balance")).content.decode()
    assert "残高照会" in html
    assert src.account_number in html
    assert "123,456円" in html
    assert "124,456円" in html
    assert "2026年11月27日 10:00 現在" in html  # the bank's clock, in Japan time


def test_statement_pages_filters_by_date_and_hides_other_customers_accounts() -> None:
    from tests.banking.factories import deposit

    customer, src = customer_with_account(1_000)
    for n in range(24):
        clock.advance(3600)
        deposit(src, 100 + n, memo=f"振込 ﾃｽﾄ{n}")
    client = login(customer)
    url = reverse("banking:statement", args=[src.pk])
    first = client.get(url).content.decode()
    assert "（25件）" in first
    assert "ﾃｽﾄ23" in first  # newest first
    assert "ﾃｽﾄ3" not in first
    second = client.get(url, {"page": "2"}).content.decode()
    assert "ﾃｽﾄ3" in second
    # A period that holds nothing, and a period in the wrong order.
    empty = client.get(url, {"date_from": "2026-10-01", "date_to": "2026-10-31"})
    assert "この期間のお取引はありません" in empty.content.decode()
    wrong = client.get(url, {"date_from": "2026-11-30", "date_to": "2026-11-01"})
    assert wrong.status_code == 400
    assert "終了日は開始日以降" in wrong.content.decode()
    full_width = client.get(
        url, {"date_from": "２０２６／１１／２７", "date_to": "２０２６－１１－２８"}
    )
    assert full_width.status_code == 200
    assert "（25件）" in full_width.content.decode()
    bad = client.get(url, {"date_from": "11/31", "page": "x"})
    assert bad.status_code == 400
    _other, foreign = customer_with_account(5)
    assert client.get(reverse("banking:statement", args=[foreign.pk])).status_code == 404
    assert client.get(reverse("banking:statement_csv", args=[foreign.pk])).status_code == 404


def test_statement_csv_is_utf8_with_bom_japanese_headers_oldest_first_and_formula_safe() -> None:
    from tests.banking.factories import deposit

    customer, src = customer_with_account(1_000)
    clock.advance(60)
    deposit(src, 2_500, memo="=HYPERLINK(1)")
    client = login(customer)
    r = client.get(reverse("banking:statement_csv", args=[src.pk]))
    assert r.status_code == 200
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"].startswith('attachment; filename="meisai_')
    body = r.content
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "日付,時刻,摘要,お支払金額,お預り金額,差引残高"
    assert lines[1] == "2026/11/27,10:00,振込 ｷﾕｳﾖ,,1000,1000"
    assert lines[2] == "2026/11/27,10:01,'=HYPERLINK(1),,2500,3500"
    assert lines[3] == ""


# --- 振替 -------------------------------------------------------------------------


def test_furikae_input_confirm_done_with_transaction_password() -> None:
    customer, src = customer_with_account(100_000)
    savings = open_account(customer, account_type=AccountType.SAVINGS)
    client = login(customer)
    r = client.post(
        reverse("banking:furikae"),
        {"from_account": src.pk, "to_account": savings.pk, "amount": "３０，０００円"},
    )
    assert r.status_code == 302
    html, key = confirm_page(client)
    assert "30,000円" in html
    assert "data-softkeyboard" in html  # the software keyboard widget
    wrong = client.post(
        reverse("banking:transfer_confirm"),
        {"idempotency_key": key, "transaction_password": "wrong-pass", "action": "confirm"},
    )
    assert wrong.status_code == 400
    assert "確認用パスワードが正しくありません" in wrong.content.decode()
    assert transaction_password_failures(customer) == 1
    assert balance(src) == 100_000
    ok = client.post(
        reverse("banking:transfer_confirm"),
        {"idempotency_key": key, "transaction_password": TRANSACTION_PASSWORD},
    )
    assert ok.status_code == 302
    transfer = Transfer.objects.get()
    assert ok["Location"] == reverse("banking:transfer_done", args=[transfer.pk])
    done = client.get(ok["Location"]).content.decode()
    assert "振替（完了）" in done
    assert (balance(src), balance(savings)) == (70_000, 30_000)


def test_double_submit_back_button_and_second_tab_transfer_once() -> None:
    customer, src = customer_with_account(100_000)
    savings = open_account(customer, account_type=AccountType.SAVINGS)
    client = login(customer)
    client.post(
        reverse("banking:furikae"),
        {"from_account": src.pk, "to_account": savings.pk, "amount": "1000"},
    )
    _html, key = confirm_page(client)
    _html2, key_tab2 = confirm_page(client)  # the same 確認 open in a second tab
    assert key_tab2 == key
    form = {"idempotency_key": key, "transaction_password": TRANSACTION_PASSWORD}
    first = client.post(reverse("banking:transfer_confirm"), form)
    second = client.post(reverse("banking:transfer_confirm"), form)  # second tab / replay
    third = client.post(reverse("banking:transfer_confirm"), form)  # back button + resubmit
    assert first["Location"] == second["Location"] == third["Location"]
    assert Transfer.objects.count() == 1
    assert balance(src) == 99_000


def test_confirm_page_of_an_older_input_cannot_confirm_the_newer_one() -> None:
    customer, src = customer_with_account(100_000)
    savings = open_account(customer, account_type=AccountType.SAVINGS)
    client = login(customer)
    client.post(
        reverse("banking:furikae"),
        {"from_account": src.pk, "to_account": savings.pk, "amount": "1000"},
    )
    _html, old_key = confirm_page(client)
    client.post(
        reverse("banking:furikae"),
        {"from_account": src.pk, "to_account": savings.pk, "amount": "9000"},
    )
    r = client.post(
        reverse("banking:transfer_confirm"),
        {"idempotency_key": old_key, "transaction_password": TRANSACTION_PASSWORD},
    )
    assert r.status_code == 409
    assert Transfer.objects.count() == 0


# --- 振込: bad input gets a clear message and changes nothing -----------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "0"}, "振込金額は1円以上で入力してください"),
        ({"amount": "-5000"}, "振込金額は1円以上で入力してください"),
        ({"amount": "1万"}, "振込金額は数字で入力してください"),
        ({"amount": ""}, "振込金額を入力してください"),
        ({"amount": "9" * 30}, "振込金額が大きすぎます"),
        ({"amount": "60000"}, "お引出し可能な残高が不足しています"),
        ({"account_number": "123456"}, "口座番号は7桁の数字で入力してください"),
        ({"account_number": "12345678"}, "口座番号は7桁の数字で入力してください"),
        ({"account_number": "12-4567"}, "口座番号は7桁の数字で入力してください"),
        ({"bank_code": "05"}, "金融機関コードは4桁の数字で入力してください"),
        ({"branch_code": "ABC"}, "支店コードは3桁の数字で入力してください"),
        ({"name_kana": "山田花子"}, "受取人名に使えない文字（山）があります"),
        ({"name_kana": "　"}, "受取人名を入力してください"),
        ({"account_type": "bogus"}, "科目を選択してください"),
        ({"from_account": "999999"}, "口座を選択してください"),
        ({"scheduled_for": "2026-11-28"}, "振込指定日は一覧の営業日から選択してください"),
    ],
)
def test_bad_furikomi_input_gets_a_clear_message_and_changes_nothing(
    overrides: dict[str, str], message: str
) -> None:
    customer, src = customer_with_account(50_000)
    issue_token(customer)
    client = login(customer, Token.objects.get(customer=customer))
    r = client.post(reverse("banking:furikomi_input"), new_payee_input(src, **overrides))
    assert r.status_code == 400
    assert message in r.content.decode()
    assert client.session.get("banking.transfer_draft") is None
    assert balance(src) == 50_000
    assert Transfer.objects.count() == 0


def test_amount_above_the_daily_limit_is_refused_with_the_limit_in_the_message() -> None:
    customer, src = customer_with_account(5_000_000)
    payee_seed(customer=customer, destination=other_bank())
    payee = Payee.objects.get()
    client = login(customer)  # no token app: the lower limit applies
    r = client.post(
        reverse("banking:furikomi_input") + f"?payee={payee.pk}",
        {"from_account": src.pk, "amount": "100001", "scheduled_for": ""},
    )
    assert r.status_code == 400
    assert "振込限度額を超えています（1日の限度額 100,000円" in r.content.decode()


def test_full_width_input_is_converted() -> None:
    customer, src = customer_with_account(50_000)
    token, _signing_key = issue_token(customer)
    client = login(customer, token)
    r = client.post(
        reverse("banking:furikomi_input"),
        new_payee_input(
            src,
            bank_code="０００５",
            branch_code="１２３",
            account_number="７６５４３２１",
            amount="１２，３４５",
            name_kana="すずき　はなこ",
        ),
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    html, _key = confirm_page(client)
    assert "12,345円" in html
    assert "ｽｽﾞｷ ﾊﾅｺ" in html
    assert "7654321" in html


# --- 振込 to a new payee with the signing code --------------------------------------


def test_furikomi_to_a_new_payee_signed_by_the_token_app() -> None:
    customer, src = customer_with_account(100_000)
    token, signing_key = issue_token(customer)
    client = login(customer, token)
    r = client.post(reverse("banking:furikomi_input"), new_payee_input(src))
    assert r.status_code == 302
    html, key = confirm_page(client)
    nonce = re.search(r'class="signing-nonce">(\d{8})<', html)
    assert nonce
    # The screen shows the account paid from, which the question binds too.
    assert f"{src.branch_code}-{src.account_number}" in html
    # The customer types payee, amount, account and 取引番号 from this screen into the app.
    code = sign_transaction(
        signing_key,
        bank_code="0005",
        branch_code="123",
        account_type="1",
        account_number="7654321",
        amount=20_000,
        debit_branch_code=src.branch_code,
        debit_account_number=src.account_number,
        nonce=nonce.group(1),
    )
    missing = client.post(
        reverse("banking:transfer_confirm"),
        {"idempotency_key": key, "transaction_password": TRANSACTION_PASSWORD},
    )
    assert missing.status_code == 400
    assert "取引認証番号を入力してください" in missing.content.decode()
    r = client.post(
        reverse("banking:transfer_confirm"),
        {
            "idempotency_key": key,
            "transaction_password": TRANSACTION_PASSWORD,
            "signing_code": code,
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert balance(src) == 80_000
    assert Transfer.objects.get().signed


def test_code_signed_on_one_confirm_page_fails_after_the_payee_is_changed() -> None:
    customer, src = customer_with_account(100_000)
    token, signing_key = issue_token(customer)
    client = login(customer, token)
    client.post(reverse("banking:furikomi_input"), new_payee_input(src))
    confirm_page(client)
    signed = SigningChallenge.objects.get()
    code = sign(signed, signing_key)
    # The payee is changed (another input, e.g. by malware in the browser) after signing.
    client.post(reverse("banking:furikomi_input"), new_payee_input(src, account_number="1111111"))
    _html, key = confirm_page(client)
    r = client.post(
        reverse("banking:transfer_confirm"),
        {
            "idempotency_key": key,
            "transaction_password": TRANSACTION_PASSWORD,
            "signing_code": code,
        },
    )
    assert r.status_code == 400
    assert "取引認証番号が正しくありません" in r.content.decode()
    assert Transfer.objects.count() == 0
    assert balance(src) == 100_000


def test_new_payee_within_24_hours_of_reissue_is_refused_on_screen() -> None:
    customer, src = customer_with_account(100_000)
    token, _key = issue_token(customer, created_at=clock.now() - timedelta(hours=3))
    client = login(customer, token)
    select = client.get(reverse("banking:furikomi")).content.decode()
    assert "トークンの発行から24時間" in select
    r = client.post(reverse("banking:furikomi_input"), new_payee_input(src))
    assert r.status_code == 400
    assert "トークンの発行から24時間" in r.content.decode()


def test_authenticator_user_sees_why_new_payees_and_registration_are_unavailable() -> None:
    customer, _src = customer_with_account(100_000)
    token, _key = issue_token(customer, kind=Token.Kind.AUTHENTICATOR)
    client = login(customer, token)
    for name in ("banking:furikomi", "banking:payees", "banking:limit"):
        assert "標準の認証アプリ" in client.get(reverse(name)).content.decode()
    r = client.get(reverse("banking:payee_add"))
    assert r.status_code == 403
    assert "標準の認証アプリ" in r.content.decode()


# --- 振込予約 ----------------------------------------------------------------------


def test_scheduled_furikomi_listed_and_cancelled() -> None:
    customer, src = customer_with_account(100_000)
    payee_seed(customer=customer, destination=other_bank())
    payee = Payee.objects.get()
    client = login(customer)
    form = client.get(reverse("banking:furikomi_input") + f"?payee={payee.pk}").content.decode()
    assert 'value="2026-11-30"' in form  # Monday; the weekend is not offered
    assert 'value="2026-11-28"' not in form
    r = client.post(
        reverse("banking:furikomi_input") + f"?payee={payee.pk}",
        {"from_account": src.pk, "amount": "5000", "scheduled_for": "2026-11-30"},
    )
    assert r.status_code == 302
    html, key = confirm_page(client)
    assert "振込予約（確認）" in html
    r = client.post(
        reverse("banking:transfer_confirm"),
        {"idempotency_key": key, "transaction_password": TRANSACTION_PASSWORD},
    )
    transfer = Transfer.objects.get()
    assert transfer.state == Transfer.State.SCHEDULED
    assert "振込予約（完了）" in client.get(r["Location"]).content.decode()
    assert balance(src) == 100_000
    listing = client.get(reverse("banking:scheduled")).content.decode()
    assert "2026/11/30" in listing
    cancel_url = reverse("banking:scheduled_cancel", args=[transfer.pk])
    assert client.post(cancel_url).status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.CANCELLED
    again = client.post(cancel_url)
    assert again.status_code == 409
    assert "取り消しできません" in again.content.decode()


# --- 登録先 and 振込限度額 -------------------------------------------------------------


def test_payee_registration_needs_a_signing_code_over_the_account() -> None:
    customer, _src = customer_with_account(100_000)
    token, signing_key = issue_token(customer)
    client = login(customer, token)
    r = client.post(
        reverse("banking:payee_add"),
        {
            "bank_code": "0005",
            "branch_code": "123",
            "account_type": AccountType.ORDINARY,
            "account_number": "7654321",
            "name_kana": "ｽｽﾞｷ ﾊﾅｺ",
            "nickname": "花子さん",
        },
    )
    assert r.status_code == 302
    html = client.get(reverse("banking:payee_confirm")).content.decode()
    key = idempotency_key(html)
    challenge = SigningChallenge.objects.get(purpose=SigningChallenge.Purpose.PAYEE)
    wrong = client.post(
        reverse("banking:payee_confirm"),
        {
            "idempotency_key": key,
            "transaction_password": TRANSACTION_PASSWORD,
            "signing_code": "12345678",
        },
    )
    assert wrong.status_code == 400
    assert Payee.objects.count() == 0
    ok = client.post(
        reverse("banking:payee_confirm"),
        {
            "idempotency_key": key,
            "transaction_password": TRANSACTION_PASSWORD,
            "signing_code": sign(challenge, signing_key),
        },
    )
    assert ok.status_code == 302
    payee = Payee.objects.get()
    assert (payee.account_number, payee.nickname) == ("7654321", "花子さん")
    # Now a 振込 to it below the threshold needs no signing code.
    client.post(
        reverse("banking:furikomi_input") + f"?payee={payee.pk}",
        {"from_account": _src.pk, "amount": "1000", "scheduled_for": ""},
    )
    html, key = confirm_page(client)
    assert "signing-nonce" not in html


def test_limit_is_lowered_with_the_password_and_raised_only_with_a_signing_code() -> None:
    customer, _src = customer_with_account(100_000)
    token, signing_key = issue_token(customer)
    client = login(customer, token)
    assert client.post(reverse("banking:limit"), {"new_limit": "50,000"}).status_code == 302
    html = client.get(reverse("banking:limit_confirm")).content.decode()
    assert "signing-nonce" not in html
    r = client.post(
        reverse("banking:limit_confirm"),
        {"idempotency_key": idempotency_key(html), "transaction_password": TRANSACTION_PASSWORD},
    )
    assert r.status_code == 302
    assert "50,000円" in client.get(reverse("banking:limit")).content.decode()
    client.post(reverse("banking:limit"), {"new_limit": "2000000"})
    html = client.get(reverse("banking:limit_confirm")).content.decode()
    assert "signing-nonce" in html
    challenge = SigningChallenge.objects.get(purpose=SigningChallenge.Purpose.LIMIT)
    r = client.post(
        reverse("banking:limit_confirm"),
        {
            "idempotency_key": idempotency_key(html),
            "transaction_password": TRANSACTION_PASSWORD,
            "signing_code": sign(challenge, signing_key),
        },
    )
    assert r.status_code == 302
    assert "2,000,000円" in client.get(reverse("banking:limit")).content.decode()


def test_limit_above_the_maximum_is_refused() -> None:
    customer, _src = customer_with_account(100_000)
    client = login(customer)
    r = client.post(reverse("banking:limit"), {"new_limit": "10000001"})
    assert r.status_code == 400
    assert "10,000,000円以下" in r.content.decode()


# --- Sessions --------------------------------------------------------------------------


def test_suspension_ends_the_session_before_the_confirm_step() -> None:
    customer, src = customer_with_account(100_000)
    savings = open_account(customer, account_type=AccountType.SAVINGS)
    client = login(customer)
    client.post(
        reverse("banking:furikae"),
        {"from_account": src.pk, "to_account": savings.pk, "amount": "1000"},
    )
    _html, key = confirm_page(client)
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.SUSPENDED)
    r = client.post(
        reverse("banking:transfer_confirm"),
        {"idempotency_key": key, "transaction_password": TRANSACTION_PASSWORD},
    )
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("customers:login"))
    assert Transfer.objects.count() == 0
    assert ledger_check() == []


def test_confirm_without_its_hidden_key_gets_a_message_not_a_transfer() -> None:
    customer, _src = customer_with_account(100_000)
    token, _key = issue_token(customer)
    client = login(customer, token)
    client.post(reverse("banking:limit"), {"new_limit": "5000"})
    r = client.post(
        reverse("banking:limit_confirm"), {"transaction_password": TRANSACTION_PASSWORD}
    )
    assert r.status_code == 400
    assert "入力内容が変更されました" in r.content.decode()
    r = client.post(
        reverse("banking:transfer_confirm"), {"transaction_password": TRANSACTION_PASSWORD}
    )
    assert r.status_code in (302, 409)
    assert Transfer.objects.count() == 0


@pytest.fixture
def fuzz_client() -> tuple[Client, Account]:
    """One logged-in customer with a token, shared by every example of the fuzz test."""
    customer, src = customer_with_account(100_000)
    token, _key = issue_token(customer)
    return login(customer, token), src


@settings(
    deadline=None,
    max_examples=40,
    # The logged-in client is meant to be shared by all examples.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    field=st.sampled_from(
        [
            "from_account",
            "bank_code",
            "branch_code",
            "account_type",
            "account_number",
            "name_kana",
            "amount",
            "scheduled_for",
        ]
    ),
    value=st.text(max_size=80),
)
def test_any_input_in_any_field_never_gives_a_500(
    fuzz_client: tuple[Client, Account], field: str, value: str
) -> None:
    client, src = fuzz_client
    r = client.post(reverse("banking:furikomi_input"), new_payee_input(src, **{field: value}))
    assert r.status_code in (302, 400)
    if r.status_code == 302:
        assert client.get(reverse("banking:transfer_confirm")).status_code in (200, 409)
    r = client.post(
        reverse("banking:transfer_confirm"),
        {"idempotency_key": value, "transaction_password": value, "signing_code": value},
    )
    assert r.status_code < 500


def test_limit_confirm_page_of_an_older_input_cannot_confirm_the_newer_one() -> None:
    customer, _src = customer_with_account(100_000)
    client = login(customer)
    before = daily_limit(customer)
    client.post(reverse("banking:limit"), {"new_limit": "50,000"})
    old_key = idempotency_key(client.get(reverse("banking:limit_confirm")).content.decode())
    client.post(reverse("banking:limit"), {"new_limit": "40,000"})  # another tab, say
    client.get(reverse("banking:limit_confirm"))
    r = client.post(
        reverse("banking:limit_confirm"),
        {"idempotency_key": old_key, "transaction_password": "wrong-pass"},
    )
    assert r.status_code == 400
    assert "入力内容が変更されました" in r.content.decode()
    assert daily_limit(customer) == before
    # Refused before the password was looked at: nothing counted toward its lockout.
    assert not FailureCounter.objects.filter(
        kind=lockout.TRANSACTION_PASSWORD, consecutive_failures__gt=0
    ).exists()
