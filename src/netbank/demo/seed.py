"""Demo data, seeded idempotently by ``netbank demo``.

``SEEDERS`` is the list the demo runs, in order, each in its own transaction. A
seeder creates only what is missing (running the demo twice changes nothing) and
returns lines worth printing under the credentials table. Every seeder goes through
the apps' own services, as a customer, the bank or an administrator would:

- ``seed_customers``: the demo customers (``customer_create``);
- ``seed_accounts``: their accounts, history and 登録先 (``banking.seed``);
- ``seed_otp``: demo0002 registers a standard authenticator app behind its
  確認用パスワード and 追加認証 and confirms it with a code, so its login asks for the
  ワンタイムパスワード; demo0001 keeps no token, for walking the leaflet's journey;
- ``seed_operators``: a helpdesk operator and a supervisor, through the console's own
  ``create_operator`` command (nothing imports the helpdesk; without it installed the
  demo has no operators).

The bank shows a TOTP key once and stores it sealed. The demo must print the keys it
made on every start, so it keeps them in ``<data dir>/demo-credentials.json`` (0600,
demo only): a public demo's keys are no secret, and this file is the only place they
exist in clear. A key whose file entry is lost is replaced through the same services
(a re-issue, a re-enrolment), so the file and the database always agree; a token app
a visitor set up for demo0002 meanwhile is left alone.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from netbank import clock
from netbank.config.env import data_dir
from netbank.customers.models import Customer
from netbank.customers.questions import SECRET_QUESTIONS
from netbank.customers.services import customer_create, secret_question_pick
from netbank.oath import b32decode, time_step, totp
from netbank.otp.models import Token

# The two questions the leaflet shows, and one more from the bank's list.
Q_CLUB, Q_FILM, Q_NICKNAME = SECRET_QUESTIONS[0], SECRET_QUESTIONS[1], SECRET_QUESTIONS[2]

CREDENTIALS_FILE = "demo-credentials.json"


@dataclass(frozen=True)
class DemoCustomer:
    login_id: str
    password: str
    transaction_password: str  # 確認用パスワード
    name_kanji: str
    name_kana: str
    email: str
    questions: tuple[tuple[str, str], ...]
    # Registers an authenticator app at seed time, so its login asks for the OTP.
    otp_in_use: bool = False


@dataclass(frozen=True)
class DemoOperator:
    username: str
    password: str
    role: str  # "operator" or "supervisor" (netbank.helpdesk.operators.ROLE_GROUPS)
    full_name: str


# Demo-only credentials, printed by `netbank demo` and listed in the README.
DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer(
        login_id="demo0001",
        password="sakura2026",  # noqa: S106 - public demo credential
        transaction_password="kakunin01",  # noqa: S106 - public demo credential
        name_kanji="山田 太郎",
        name_kana="ヤマダ タロウ",
        email="taro.yamada@example.jp",
        questions=((Q_CLUB, "サッカー部"), (Q_FILM, "となりのトトロ"), (Q_NICKNAME, "たろちゃん")),
    ),
    DemoCustomer(
        login_id="demo0002",
        password="momiji2026",  # noqa: S106 - public demo credential
        transaction_password="kakunin02",  # noqa: S106 - public demo credential
        name_kanji="佐藤 花子",
        name_kana="サトウ ハナコ",
        email="hanako.sato@example.jp",
        questions=((Q_CLUB, "吹奏楽部"), (Q_FILM, "ローマの休日")),
        otp_in_use=True,
    ),
)

DEMO_OPERATORS: tuple[DemoOperator, ...] = (
    DemoOperator(
        username="operator01",
        password="demo-operator-2026",  # noqa: S106 - public demo credential
        role="operator",
        full_name="窓口 一郎",
    ),
    DemoOperator(
        username="supervisor01",
        password="demo-supervisor-2026",  # noqa: S106 - public demo credential
        role="supervisor",
        full_name="責任者 花子",
    ),
)

Seeder = Callable[[], list[str]]


# --- the demo's key file ---------------------------------------------------------------


@dataclass(frozen=True)
class DemoKey:
    """A TOTP key the demo made, as the bank showed it once."""

    secret_base32: str
    otpauth_uri: str
    # What ties the key to the database row it belongs to: the token's ユーザID, or
    # the operator credential's enrolment time.
    bound_to: str


def credentials_path() -> Path:
    return data_dir() / CREDENTIALS_FILE


def _keys_read() -> dict[str, dict[str, DemoKey]]:
    try:
        raw = json.loads(credentials_path().read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {"customers": {}, "operators": {}}
    keys: dict[str, dict[str, DemoKey]] = {"customers": {}, "operators": {}}
    for group in keys:
        entries = raw.get(group, {}) if isinstance(raw, dict) else {}
        for name, entry in entries.items() if isinstance(entries, dict) else ():
            try:
                keys[group][name] = DemoKey(
                    secret_base32=str(entry["secret_base32"]),
                    otpauth_uri=str(entry["otpauth_uri"]),
                    bound_to=str(entry["bound_to"]),
                )
            except (KeyError, TypeError):
                continue  # a damaged entry counts as missing: the key is made again
    return keys


def _key_store(group: str, name: str, key: DemoKey) -> None:
    """Add one key to the file: owner-only, replaced atomically."""
    keys = _keys_read()
    keys[group][name] = key
    data = {g: {n: vars(k) for n, k in sorted(entries.items())} for g, entries in keys.items()}
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    os.replace(tmp, path)


def customer_key(login_id: str) -> DemoKey | None:
    """The authenticator key of a demo customer whose token is in use, if the demo made it."""
    key = _keys_read()["customers"].get(login_id)
    if key is None:
        return None
    in_use = Token.objects.filter(
        customer__login_id=login_id, state=Token.State.IN_USE, user_id=key.bound_to
    ).exists()
    return key if in_use else None


def operator_key(username: str) -> DemoKey | None:
    """The TOTP key of a demo operator, if it is still the operator's current one."""
    key = _keys_read()["operators"].get(username)
    if key is None or not apps.is_installed("netbank.helpdesk"):
        return None
    # Looked up by name: the demo imports nothing of the console.
    credentials = apps.get_model("helpdesk", "OperatorCredential")
    credential = credentials.objects.filter(user__username=username).first()
    if credential is None or credential.enrolled_at.isoformat() != key.bound_to:
        return None
    return key


# --- seeders ------------------------------------------------------------------------------


def seed_customers() -> list[str]:
    """The demo customers with their passwords and 追加認証 questions."""
    created = []
    for demo in DEMO_CUSTOMERS:
        if Customer.objects.filter(login_id=demo.login_id).exists():
            continue
        customer_create(
            login_id=demo.login_id,
            name_kanji=demo.name_kanji,
            name_kana=demo.name_kana,
            email=demo.email,
            password=demo.password,
            transaction_password=demo.transaction_password,
            questions=list(demo.questions),
        )
        created.append(demo.login_id)
    return [f"顧客を作成しました / customers created: {', '.join(created)}"] if created else []


def seed_accounts() -> list[str]:
    """A 普通預金 with history, a 貯蓄預金 and two 登録先 for every demo customer."""
    from netbank.banking.seed import seed_demo_accounts

    lines: list[str] = []
    for demo in DEMO_CUSTOMERS:
        customer = Customer.objects.filter(login_id=demo.login_id).first()
        if customer is not None:
            lines.extend(seed_demo_accounts(customer))
    return lines


class _NotStartedError(Exception):
    """Rolls back an authenticator issue whose confirmation did not pass."""


def _otp_register(demo: DemoCustomer, customer: Customer) -> str:
    """What a customer does on 認証アプリで登録: the 確認用パスワード and 追加認証, then
    the first code from the app (here computed from the key) starts it."""
    from netbank.otp.tokens.services import token_issue_authenticator_authorised, token_start_use

    question = secret_question_pick(customer=customer)
    answers = dict(demo.questions)
    if question is None or question.question not in answers:
        return f"{demo.login_id}: 追加認証の質問がありません / no secret question; OTP not set up"
    try:
        with transaction.atomic():
            outcome = token_issue_authenticator_authorised(
                customer=customer,
                transaction_password=demo.transaction_password,
                question_id=question.pk,
                answer=answers[question.question],
                ip=None,
            )
            if outcome.issue is None:
                raise _NotStartedError(outcome.message or "the demo credentials were refused")
            token = outcome.issue.token
            code = totp(
                b32decode(outcome.issue.secret_base32),
                clock.timestamp(),
                period=token.period,
                digits=token.digits,
                algorithm=token.algorithm,
            )
            started = token_start_use(customer=customer, code=code, ip=None, channel="demo")
            if not started.started:
                raise _NotStartedError(f"the first code was not accepted ({started.result})")
            # The README's first step is `oathtool --totp -b KEY` right after the start: the
            # seed's own code (never shown to anyone) must not use up the step a newcomer's
            # code is in. The replay guard goes back to two steps before, just below the
            # bank's window (one step either side), so every code in it is new.
            Token.objects.filter(pk=token.pk).update(
                last_step=time_step(clock.timestamp(), period=token.period) - 2
            )
            _key_store(
                "customers",
                demo.login_id,
                DemoKey(outcome.issue.secret_base32, outcome.issue.otpauth_uri, token.user_id),
            )
    except _NotStartedError as exc:
        return (
            f"{demo.login_id}: ワンタイムパスワードを設定できませんでした / OTP not set up: {exc}"
        )
    return (
        f"{demo.login_id}: 認証アプリのワンタイムパスワードを利用開始しました / "
        f"OTP in use (authenticator app, ユーザID {token.user_id})"
    )


def seed_otp() -> list[str]:
    """demo0002's ワンタイムパスワード in use, with its key in the demo's key file."""
    from netbank.otp.tokens.services import TokenError, authenticator_allowed

    lines: list[str] = []
    for demo in DEMO_CUSTOMERS:
        if not demo.otp_in_use or customer_key(demo.login_id) is not None:
            continue
        customer = Customer.objects.filter(login_id=demo.login_id).first()
        if customer is None or customer.status != Customer.Status.ACTIVE:
            continue
        if (
            Token.objects.filter(customer=customer, state=Token.State.IN_USE)
            .exclude(kind=Token.Kind.AUTHENTICATOR)
            .exists()
        ):
            # A visitor set up the token app for this customer: theirs stays. (An
            # authenticator token without its key in the file is the demo's own, whose
            # key was lost, and is replaced.)
            continue
        if not authenticator_allowed():
            lines.append(
                f"{demo.login_id}: 認証アプリの利用が許可されていません / authenticator apps are "
                "not allowed (NETBANK_OTP_ALLOW_AUTHENTICATOR_APPS); OTP not set up"
            )
            continue
        try:
            lines.append(_otp_register(demo, customer))
        except TokenError as exc:
            lines.append(f"{demo.login_id}: OTP not set up ({exc.code})")
    return lines


def seed_operators() -> list[str]:
    """A helpdesk operator and a supervisor, each with a TOTP key in the demo's key file,
    enrolled by ``create_operator`` as an administrator would."""
    if not apps.is_installed("netbank.helpdesk"):
        return []
    created: list[str] = []
    reenrolled: list[str] = []
    lines = []
    for demo in DEMO_OPERATORS:
        if operator_key(demo.username) is not None:
            continue
        out = io.StringIO()
        try:
            with transaction.atomic():
                if User.objects.filter(username=demo.username).exists():
                    # The key file lost its entry: a new key, as for a lost phone.
                    # The demo's password is set again too, as the table prints it.
                    call_command(
                        "create_operator",
                        demo.username,
                        "--reenrol",
                        "--new-password",
                        "--password-stdin",
                        "--json",
                        stdin=io.StringIO(demo.password + "\n"),
                        stdout=out,
                    )
                    reenrolled.append(demo.username)
                else:
                    call_command(
                        "create_operator",
                        demo.username,
                        "--role",
                        demo.role,
                        "--full-name",
                        demo.full_name,
                        "--password-stdin",
                        "--json",
                        stdin=io.StringIO(demo.password + "\n"),
                        stdout=out,
                    )
                    created.append(demo.username)
                enrolment = json.loads(out.getvalue())
                _key_store(
                    "operators",
                    demo.username,
                    DemoKey(
                        enrolment["secret_base32"],
                        enrolment["otpauth_uri"],
                        enrolment["enrolled_at"],
                    ),
                )
        except CommandError as exc:
            lines.append(
                f"{demo.username}: ヘルプデスク担当者を作成できません / not created: {exc}"
            )
    if created:
        lines.append(f"ヘルプデスク担当者を作成しました / operators created: {', '.join(created)}")
    if reenrolled:
        lines.append(
            f"ヘルプデスク担当者の鍵を再発行しました / operators re-enrolled: {', '.join(reenrolled)}"
        )
    return lines


SEEDERS: list[Seeder] = [seed_customers, seed_accounts, seed_otp, seed_operators]


def seed_all() -> list[str]:
    """Run every seeder; each one commits on its own so a failure names its seeder."""
    lines: list[str] = []
    for seeder in SEEDERS:
        with transaction.atomic():
            lines.extend(seeder())
    return lines
