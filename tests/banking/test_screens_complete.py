"""Screens that say all they ask: 登録先 ends on its 完了 screen showing the 登録名,
振込（確認） names the 取引認証番号 it asks for, 振替（入力） starts on two different
accounts, and 振込予約の取消（完了） sits under its own menu entry and steps."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from netbank.banking.models import AccountType, Payee, SigningChallenge, Transfer
from netbank.banking.payees import payee_seed
from tests.banking.factories import (
    TRANSACTION_PASSWORD,
    customer_with_account,
    issue_token,
    login,
    open_account,
    other_bank,
    sign,
)
from tests.banking.test_screens import confirm_page, idempotency_key, new_payee_input

pytestmark = pytest.mark.django_db

PAYEE_INPUT = {
    "bank_code": "0005",
    "branch_code": "123",
    "account_type": AccountType.ORDINARY,
    "account_number": "7654321",
    "name_kana": "ｽｽﾞｷ ﾊﾅｺ",
    "nickname": "花子さんの口座",
}


def current_nav(html: str) -> str:
    """The お取引メニュー entry marked as the current page."""
    nav = html.split('class="bank-nav"', 1)[1].split("</nav>", 1)[0]
    found = re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', nav)
    assert len(found) == 1, nav
    return found[0]


def steps(html: str) -> list[str]:
    """The step bar's steps, the current one marked with a star."""
    bar = html.split('<ol class="steps"', 1)[1].split("</ol>", 1)[0]
    return [
        ("*" if current else "") + label
        for current, label in re.findall(r'<li( aria-current="step")?>([^<]+)</li>', bar)
    ]


def test_payee_registration_confirms_the_nickname_and_ends_on_its_done_screen() -> None:
    customer, _src = customer_with_account(100_000)
    token, signing_key = issue_token(customer)
    client = login(customer, token)
    assert client.post(reverse("banking:payee_add"), PAYEE_INPUT).status_code == 302
    html = client.get(reverse("banking:payee_confirm")).content.decode()
    assert steps(html) == ["入力", "*確認", "完了"]
    assert '<td class="payee-nickname">花子さんの口座</td>' in html
    challenge = SigningChallenge.objects.get(purpose=SigningChallenge.Purpose.PAYEE)
    r = client.post(
        reverse("banking:payee_confirm"),
        {
            "idempotency_key": idempotency_key(html),
            "transaction_password": TRANSACTION_PASSWORD,
            "signing_code": sign(challenge, signing_key),
        },
    )
    assert r.status_code == 302
    payee = Payee.objects.get()
    assert r["Location"] == reverse("banking:payee_done", args=[payee.pk])
    done = client.get(r["Location"])
    assert done.status_code == 200
    page = done.content.decode()
    assert "<h1>登録先の登録（完了）</h1>" in page
    assert steps(page) == ["入力", "確認", "*完了"]
    assert current_nav(page) == "登録先"
    assert '<td class="payee-nickname">花子さんの口座</td>' in page
    assert '<td class="dest-account">7654321</td>' in page
    assert "登録先を登録しました" in page


def test_payee_confirm_without_a_nickname_says_so() -> None:
    customer, _src = customer_with_account(100_000)
    token, _key = issue_token(customer)
    client = login(customer, token)
    client.post(reverse("banking:payee_add"), {**PAYEE_INPUT, "nickname": ""})
    html = client.get(reverse("banking:payee_confirm")).content.decode()
    assert '<td class="payee-nickname">（なし）</td>' in html


def test_another_customers_payee_done_screen_is_not_found() -> None:
    owner, _src = customer_with_account(1_000)
    payee = payee_seed(customer=owner, destination=other_bank(), nickname="ひみつ")
    stranger, _other = customer_with_account(1_000)
    client = login(stranger)
    r = client.get(reverse("banking:payee_done", args=[payee.pk]))
    assert r.status_code == 404
    assert "ひみつ" not in r.content.decode()


def instruction(html: str) -> str:
    found = re.search(r'<p class="instruction">([^<]+)</p>', html)
    assert found is not None, html[:3000]
    return found.group(1)


def test_furikomi_confirm_that_needs_a_signing_code_asks_for_it_in_its_instruction() -> None:
    customer, src = customer_with_account(100_000)
    token, _key = issue_token(customer)
    client = login(customer, token)
    assert client.post(reverse("banking:furikomi_input"), new_payee_input(src)).status_code == 302
    html, _key = confirm_page(client)
    assert 'name="signing_code"' in html
    assert "取引認証番号と確認用パスワードを入力し" in instruction(html)


def test_furikomi_confirm_without_signing_asks_only_for_the_password() -> None:
    customer, src = customer_with_account(100_000)
    payee = payee_seed(customer=customer, destination=other_bank())
    client = login(customer)
    client.post(
        reverse("banking:furikomi_input") + f"?payee={payee.pk}",
        {"from_account": src.pk, "amount": "1000", "scheduled_for": ""},
    )
    html, _key = confirm_page(client)
    assert 'name="signing_code"' not in html
    assert instruction(html) == (
        "入力内容をご確認のうえ、確認用パスワードを入力し、「確定する」ボタンを押して下さい。"
    )


def selected(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, html[:3000]
    return re.findall(r'<option value="([^"]+)"[^>]* selected>', select.group(1))


def test_furikae_input_starts_on_two_different_accounts_and_next_goes_on() -> None:
    customer, src = customer_with_account(100_000)
    savings = open_account(customer, account_type=AccountType.SAVINGS)
    client = login(customer)
    html = client.get(reverse("banking:furikae")).content.decode()
    from_account, to_account = selected(html, "from_account"), selected(html, "to_account")
    assert len(from_account) == len(to_account) == 1
    assert from_account != to_account
    assert {from_account[0], to_account[0]} == {str(src.pk), str(savings.pk)}
    # 次へ with what the screen chose, only the amount typed.
    r = client.post(
        reverse("banking:furikae"),
        {"from_account": from_account[0], "to_account": to_account[0], "amount": "1000"},
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    assert r["Location"] == reverse("banking:transfer_confirm")


def test_furikae_back_from_confirm_keeps_the_accounts_chosen() -> None:
    customer, src = customer_with_account(100_000)
    savings = open_account(customer, balance=5_000, account_type=AccountType.SAVINGS)
    client = login(customer)
    r = client.post(
        reverse("banking:furikae"),
        {"from_account": savings.pk, "to_account": src.pk, "amount": "1000"},
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    html = client.get(reverse("banking:furikae") + "?back=1").content.decode()
    assert selected(html, "from_account") == [str(savings.pk)]
    assert selected(html, "to_account") == [str(src.pk)]


def test_scheduled_cancel_screens_sit_under_their_menu_entry_with_no_input_step() -> None:
    customer, src = customer_with_account(100_000)
    payee = payee_seed(customer=customer, destination=other_bank())
    client = login(customer)
    client.post(
        reverse("banking:furikomi_input") + f"?payee={payee.pk}",
        {"from_account": src.pk, "amount": "5000", "scheduled_for": "2026-11-30"},
    )
    _html, key = confirm_page(client)
    client.post(
        reverse("banking:transfer_confirm"),
        {"idempotency_key": key, "transaction_password": TRANSACTION_PASSWORD},
    )
    transfer = Transfer.objects.get()
    cancel_url = reverse("banking:scheduled_cancel", args=[transfer.pk])
    confirm = client.get(cancel_url).content.decode()
    assert current_nav(confirm) == "振込予約の照会・取消"
    assert steps(confirm) == ["*確認", "完了"]
    r = client.post(cancel_url)
    assert r.status_code == 302
    done = client.get(r["Location"]).content.decode()
    assert "<h1>振込予約の取消（完了）</h1>" in done
    assert current_nav(done) == "振込予約の照会・取消"
    assert steps(done) == ["確認", "*完了"]


def test_a_transfer_done_screen_keeps_its_own_menu_and_three_steps() -> None:
    customer, src = customer_with_account(100_000)
    payee = payee_seed(customer=customer, destination=other_bank())
    client = login(customer)
    client.post(
        reverse("banking:furikomi_input") + f"?payee={payee.pk}",
        {"from_account": src.pk, "amount": "5000", "scheduled_for": ""},
    )
    _html, key = confirm_page(client)
    r = client.post(
        reverse("banking:transfer_confirm"),
        {"idempotency_key": key, "transaction_password": TRANSACTION_PASSWORD},
    )
    done = client.get(r["Location"]).content.decode()
    assert current_nav(done) == "振込"
    assert steps(done) == ["入力", "確認", "*完了"]
