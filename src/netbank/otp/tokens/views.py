"""PC screens of the OTP journey (leaflet part 1). Thin: the rules live in otp.tokens.services.

各種お申込・手続き → ワンタイムパスワード → ワンタイムパスワード申請内容選択, then
トークン発行（入力）→（確認）→（完了）, ワンタイムパスワード利用開始, and beyond the
leaflet トークン再発行, 利用解除 and registration with a standard authenticator app.

Between 入力 and 確認 the session holds the 利用開始パスワード only sealed (AES-GCM
under the OTP key-encryption key, bound to the customer and to a random draft id);
戻る and 中止する drop the whole draft (戻る keeps the address for the 入力 screen).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any, cast

import segno
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from netbank import clock
from netbank.customers import lockout
from netbank.customers import session as customer_session
from netbank.customers.confirm import confirm_page
from netbank.customers.decorators import customer_required
from netbank.customers.messages import form_refuse_if_locked
from netbank.customers.models import Customer, SecretQuestion
from netbank.customers.services import secret_question_pick
from netbank.otp import crypto
from netbank.otp.models import Token
from netbank.otp.tokens import selectors, services
from netbank.otp.tokens.forms import (
    IssueConfirmForm,
    IssueInputForm,
    OtpCodeForm,
    TransactionPasswordForm,
)
from netbank.web.client_address import client_address

DRAFT = "otp_issue_draft"
# The address entered, kept by 戻る from 確認 for the next 入力 screen (once).
DRAFT_BACK_EMAIL = "otp_issue_back_email"
ISSUE_DONE = "otp_issue_done"
START_USE_DONE = "otp_start_use_done"
CANCEL_DONE = "otp_cancel_done"
AUTHENTICATOR_ATTEMPT = "otp_authenticator_attempt"
# An unfinished 入力 → 確認 draft is dropped after this long.
DRAFT_SECONDS = 30 * 60
DRAFT_PURPOSE = "activation-password-draft"


def _customer(request: HttpRequest) -> Customer:
    return cast(Customer, request.customer)  # type: ignore[attr-defined]


def _procedures_url() -> str:
    """各種お申込・手続き, the customers app's page that leads here."""
    return reverse("customers:procedures")


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("procedures_url", _procedures_url())
    context.setdefault("mail_from", settings.NETBANK_MAIL_FROM)
    return render(request, template, context, status=status)


def _question_of(customer: Customer, question_id: object) -> SecretQuestion | None:
    """The customer's question with this id (as kept in the session), if it still exists."""
    if not isinstance(question_id, int):
        return None
    return SecretQuestion.objects.filter(pk=question_id, customer=customer).first()


def _question_text(question: SecretQuestion) -> str:
    # Questions are stored as their Japanese msgid and translated on display.
    return _(question.question)


# --- ワンタイムパスワード申請内容選択 ---------------------------------------------------


@never_cache
@require_GET
@customer_required
def menu_view(request: HttpRequest) -> HttpResponse:
    """ワンタイムパスワード申請内容選択."""
    customer = _customer(request)
    in_use = selectors.token_in_use(customer)
    pending = selectors.token_pending(customer)
    if (
        pending is not None
        and pending.state == Token.State.ISSUED
        and pending.expires_at <= clock.now()
    ):
        pending = None  # an issue never set up in time is over
    return _render(
        request,
        "otp/menu.html",
        {
            "in_use": in_use,
            "pending": pending,
            "authenticator_allowed": services.authenticator_allowed(),
            "mandatory": bool(settings.NETBANK_OTP.get("mandatory")),
            # Confined to this application until 利用開始 (netbank.otp.tokens.confinement).
            "setup_only": getattr(request, "otp_setup_only", "") != "",
            "issue_ttl_hours": int(settings.NETBANK_OTP["issue_ttl_seconds"]) // 3600,
        },
    )


# --- トークン発行 / 再発行: 入力 → 確認 → 完了 -------------------------------------------


def _draft_seal(customer: Customer, password: str) -> dict[str, str]:
    draft_id = secrets.token_hex(16)
    sealed = crypto.seal(
        purpose=f"{DRAFT_PURPOSE}:{draft_id}",
        token_id=0,
        customer_id=customer.pk,
        plaintext=password.encode("ascii"),
    )
    return {
        "draft_id": draft_id,
        "key_id": sealed.key_id,
        "nonce": base64.b64encode(sealed.nonce).decode("ascii"),
        "ciphertext": base64.b64encode(sealed.ciphertext).decode("ascii"),
    }


def _draft_password(customer: Customer, draft: dict[str, Any]) -> str | None:
    """The sealed 利用開始パスワード of ``draft``, or None if it does not open."""
    sealed = draft.get("sealed")
    if not isinstance(sealed, dict):
        return None
    try:
        plaintext = crypto.unseal(
            purpose=f"{DRAFT_PURPOSE}:{sealed['draft_id']}",
            token_id=0,
            customer_id=customer.pk,
            key_id=str(sealed["key_id"]),
            nonce=base64.b64decode(sealed["nonce"], validate=True),
            ciphertext=base64.b64decode(sealed["ciphertext"], validate=True),
        )
    except (crypto.SealError, KeyError, TypeError, ValueError, binascii.Error):
        return None
    return plaintext.decode("ascii", "replace")


def _draft_get(request: HttpRequest, customer: Customer) -> dict[str, Any] | None:
    draft = request.session.get(DRAFT)
    created_at = draft.get("created_at") if isinstance(draft, dict) else None
    if (
        not isinstance(draft, dict)
        or draft.get("customer_id") != customer.pk
        or not isinstance(created_at, int | float)
        or clock.timestamp() - created_at > DRAFT_SECONDS
    ):
        request.session.pop(DRAFT, None)
        return None
    return draft


def _issue_url(customer: Customer) -> str:
    """トークン発行 for a first token, トークン再発行 when one is in use."""
    return reverse("otp:reissue" if selectors.token_in_use(customer) else "otp:issue")


def _no_question_message() -> str:
    return _(
        "追加認証の質問が登録されていないため、お手続きできません。"
        "お手数ですが、ヘルプデスクへご連絡ください。"
    )


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def issue_input_view(request: HttpRequest, *, reissue: bool = False) -> HttpResponse:
    """トークン発行（入力） / トークン再発行（入力）."""
    customer = _customer(request)
    if (selectors.token_in_use(customer) is not None) != reissue:
        return redirect(_issue_url(customer))
    # After 戻る the address entered comes back; the 利用開始パスワード is typed again
    # (a password is never sent back to the browser).
    back_email = request.session.pop(DRAFT_BACK_EMAIL, None)
    form = IssueInputForm(
        request.POST if request.method == "POST" else None,
        initial={"email": back_email} if isinstance(back_email, str) else None,
    )
    if request.method == "POST" and form.is_valid():
        question = secret_question_pick(customer=customer)
        if question is None:
            form.add_error(None, _no_question_message())
        else:
            request.session[DRAFT] = {
                "customer_id": customer.pk,
                "reissue": reissue,
                "email": form.cleaned_data["email"],
                "sealed": _draft_seal(customer, form.cleaned_data["activation_password"]),
                "question_id": question.pk,
                "created_at": clock.timestamp(),
            }
            request.session.pop(ISSUE_DONE, None)
            return redirect("otp:issue_confirm")
    return _render(
        request,
        "otp/issue_input.html",
        {"form": form, "reissue": reissue},
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def issue_confirm_view(request: HttpRequest) -> HttpResponse:
    """トークン発行（確認）: 確認用パスワード (software keyboard) and 追加認証 → 確定する."""
    customer = _customer(request)
    draft = _draft_get(request, customer)
    if draft is None:
        return redirect(_issue_url(customer))
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "back":
        request.session.pop(DRAFT, None)
        request.session[DRAFT_BACK_EMAIL] = str(draft.get("email", ""))
        return redirect(_issue_url(customer))
    if action == "cancel":
        request.session.pop(DRAFT, None)
        return redirect("otp:menu")

    question = _question_of(customer, draft.get("question_id"))
    if question is None:
        # The customer changed the questions in another tab: ask the current one.
        question = secret_question_pick(customer=customer)
        if question is None:
            request.session.pop(DRAFT, None)
            return _render(
                request, "otp/message.html", {"message": _no_question_message()}, status=409
            )
        draft["question_id"] = question.pk
        request.session[DRAFT] = draft

    form = IssueConfirmForm(request.POST if request.method == "POST" else None)
    asked: SecretQuestion = question

    def act() -> HttpResponse | None:
        nonlocal asked
        password = _draft_password(customer, draft)
        if password is None:
            request.session.pop(DRAFT, None)
            return redirect(_issue_url(customer))
        try:
            outcome = services.token_issue_authorised(
                customer=customer,
                email=str(draft.get("email", "")),
                activation_password=password,
                transaction_password=form.cleaned_data["transaction_password"],
                question_id=asked.pk,
                answer=form.cleaned_data["answer"],
                ip=client_address(request),
            )
        except services.TokenError:
            request.session.pop(DRAFT, None)
            return _render(
                request,
                "otp/message.html",
                {"message": _("ただいまトークンを発行できません。ヘルプデスクへご連絡ください。")},
                status=409,
            )
        if outcome.ok and outcome.token is not None:
            request.session.pop(DRAFT, None)
            request.session[ISSUE_DONE] = outcome.token.pk
            return redirect("otp:issue_done")
        _apply_outcome(form, outcome)
        if outcome.stale_question:
            fresh = secret_question_pick(customer=customer)
            if fresh is not None:
                asked = fresh
                draft["question_id"] = fresh.pk
                request.session[DRAFT] = draft
        return None

    return confirm_page(
        request,
        customer=customer,
        form=form,
        act=act,
        locks=(lockout.TRANSACTION_PASSWORD, lockout.SECRET_ANSWER),
        page=lambda status: _render(
            request,
            "otp/issue_confirm.html",
            {
                "form": form,
                "email": draft.get("email", ""),
                "question": _question_text(asked),
                "reissue": bool(draft.get("reissue")),
            },
            status=status,
        ),
    )


def _apply_outcome(form: Any, outcome: services.AuthorisedOutcome) -> None:
    if outcome.message:
        form.add_error(None, outcome.message)
    for field, message in (outcome.field_errors or {}).items():
        form.add_error(field, message)


@never_cache
@require_GET
@customer_required
def issue_done_view(request: HttpRequest) -> HttpResponse:
    """トークン発行（完了）: the mail is on its way."""
    customer = _customer(request)
    token_id = request.session.get(ISSUE_DONE)
    token = (
        Token.objects.filter(pk=token_id, customer=customer).first()
        if isinstance(token_id, int)
        else None
    )
    if token is None:
        return redirect("otp:menu")
    return _render(
        request,
        "otp/issue_done.html",
        {"token": token, "reissue": token.replaces_id is not None},
    )


# --- ワンタイムパスワード利用開始 --------------------------------------------------------


def _start_use(request: HttpRequest, customer: Customer, form: OtpCodeForm) -> HttpResponse | None:
    """Run 利用開始 for a valid form; a redirect when it worked, else errors on ``form``."""
    outcome = services.token_start_use(
        customer=customer, code=form.cleaned_data["code"], ip=client_address(request)
    )
    if outcome.started and outcome.token is not None:
        # An OTP of the new token, given in this session: it may now use the bank.
        customer_session.session_otp_started(request)
        request.session[START_USE_DONE] = outcome.token.pk
        return redirect("otp:start_use_done")
    result = outcome.result
    if result is services.StartUseResult.LOCKED:
        return None  # start_use_view turns the screen into the lock screen
    if result is services.StartUseResult.REJECTED:
        form.add_error("code", _("ワンタイムパスワードが正しくありません。"))
    elif result is services.StartUseResult.NOT_SET_UP:
        form.add_error(
            None,
            _(
                "ワンタイムパスワードアプリの初期設定が完了していません。"
                "メールに記載のサービスID・ユーザIDと利用開始パスワードでアプリの設定を行ってから、"
                "もう一度操作してください。"
            ),
        )
    else:
        form.add_error(
            None,
            _(
                "利用開始できるトークンがありません。"
                "「トークン発行」のお手続きからやり直してください。"
            ),
        )
    return None


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def start_use_view(request: HttpRequest) -> HttpResponse:
    """ワンタイムパスワード利用開始: the OTP the app shows → 利用開始する."""
    customer = _customer(request)
    pending = selectors.token_pending(customer)
    digits = pending.digits if pending else int(settings.NETBANK_OTP["digits"])
    form = OtpCodeForm(request.POST if request.method == "POST" else None, digits=digits)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            done = _start_use(request, customer, form)
            if done is not None:
                return done
    form_refuse_if_locked(form, customer, lockout.OTP)
    return _render(
        request,
        "otp/start_use.html",
        {"form": form, "pending": pending, "digits": digits},
        status=status,
    )


@never_cache
@require_GET
@customer_required
def start_use_done_view(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    token_id = request.session.get(START_USE_DONE)
    token = (
        Token.objects.filter(pk=token_id, customer=customer, state=Token.State.IN_USE).first()
        if isinstance(token_id, int)
        else None
    )
    if token is None:
        return redirect("otp:menu")
    return _render(request, "otp/start_use_done.html", {"token": token})


# --- 利用解除 -------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def cancel_view(request: HttpRequest) -> HttpResponse:
    """利用解除: the 確認用パスワード, then OTP is no longer asked at login."""
    customer = _customer(request)
    if request.method == "POST" and request.POST.get("action") == "back":
        return redirect("otp:menu")
    in_use = selectors.token_in_use(customer)
    if in_use is None:
        return redirect("otp:menu")
    mandatory = bool(settings.NETBANK_OTP.get("mandatory"))
    form = TransactionPasswordForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if mandatory:
            form.add_error(
                None, _("ワンタイムパスワードのご利用は必須のため、利用解除はできません。")
            )
        elif form.is_valid():
            try:
                outcome = services.token_cancel_authorised(
                    customer=customer,
                    transaction_password=form.cleaned_data["transaction_password"],
                    ip=client_address(request),
                )
            except services.TokenError:
                return redirect("otp:menu")
            if outcome.ok:
                request.session[CANCEL_DONE] = True
                return redirect("otp:cancel_done")
            _apply_outcome(form, outcome)
    if not mandatory:
        form_refuse_if_locked(form, customer, lockout.TRANSACTION_PASSWORD)
    return _render(
        request,
        "otp/cancel.html",
        {"form": form, "token": in_use, "mandatory": mandatory},
        status=status,
    )


@never_cache
@require_GET
@customer_required
def cancel_done_view(request: HttpRequest) -> HttpResponse:
    if not request.session.pop(CANCEL_DONE, False):
        return redirect("otp:menu")
    return _render(request, "otp/cancel_done.html", {})


# --- Standard authenticator apps (otpauth:// QR), where the bank allows them -----------


def _authenticator_question(request: HttpRequest, customer: Customer) -> SecretQuestion | None:
    """The 追加認証 question of this attempt, kept in the session (and on the customer)."""
    attempt = request.session.get(AUTHENTICATOR_ATTEMPT)
    if isinstance(attempt, dict) and attempt.get("customer_id") == customer.pk:
        question = _question_of(customer, attempt.get("question_id"))
        if question is not None:
            return question
    question = secret_question_pick(customer=customer)
    if question is not None:
        request.session[AUTHENTICATOR_ATTEMPT] = {
            "customer_id": customer.pk,
            "question_id": question.pk,
        }
    return question


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def authenticator_view(request: HttpRequest) -> HttpResponse:
    """認証アプリの登録（確認）: the same checks as a token issue, then the QR code."""
    if not services.authenticator_allowed():
        raise Http404
    customer = _customer(request)
    action = request.POST.get("action") if request.method == "POST" else None
    if action in {"back", "cancel"}:
        request.session.pop(AUTHENTICATOR_ATTEMPT, None)
        return redirect("otp:menu")
    question = _authenticator_question(request, customer)
    if question is None:
        return _render(request, "otp/message.html", {"message": _no_question_message()}, status=409)
    form = IssueConfirmForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                outcome = services.token_issue_authenticator_authorised(
                    customer=customer,
                    transaction_password=form.cleaned_data["transaction_password"],
                    question_id=question.pk,
                    answer=form.cleaned_data["answer"],
                    ip=client_address(request),
                )
            except services.TokenError:
                return redirect("otp:menu")
            if outcome.ok:
                request.session.pop(AUTHENTICATOR_ATTEMPT, None)
                return redirect("otp:authenticator_setup")
            _apply_outcome(form, outcome)
            if outcome.stale_question:
                request.session.pop(AUTHENTICATOR_ATTEMPT, None)
                question = _authenticator_question(request, customer) or question
    form_refuse_if_locked(form, customer, lockout.TRANSACTION_PASSWORD, lockout.SECRET_ANSWER)
    return _render(
        request,
        "otp/authenticator.html",
        {
            "form": form,
            "question": _question_text(question),
            "reissue": selectors.token_in_use(customer) is not None,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def authenticator_setup_view(request: HttpRequest) -> HttpResponse:
    """The QR code and the key in text, and the first code that confirms them.

    Cache-Control: no-store (never_cache). Once confirmed the key is never shown again:
    this page then has nothing to show and returns to the menu.
    """
    if not services.authenticator_allowed():
        raise Http404
    customer = _customer(request)
    pending = services.authenticator_pending(customer=customer)
    if pending is None:
        return redirect("otp:menu")
    form = OtpCodeForm(
        request.POST if request.method == "POST" else None, digits=pending.token.digits
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            done = _start_use(request, customer, form)
            if done is not None:
                return done
    qr = segno.make(pending.otpauth_uri, error="m")
    key_groups = [pending.secret_base32[i : i + 4] for i in range(0, len(pending.secret_base32), 4)]
    return _render(
        request,
        "otp/authenticator_setup.html",
        {
            "form": form,
            "token": pending.token,
            "qr_data_uri": qr.svg_data_uri(scale=5, border=4, dark="#000", light="#fff"),
            "key_text": " ".join(key_groups),
            "issuer": settings.NETBANK_BANK_NAME,
        },
        status=status,
    )
