"""The passkey screens (各種お申込・手続き → パスキー) and login with a passkey.

Thin: the rules live in ``passkeys.services``. The browser's part is
``static/passkeys/passkey.js``: it fetches options as JSON (POST, CSRF header) and hands
the browser's answer back in an ordinary form post (field ``credential``), so a refusal
is a page with its message like any other form's, and success a redirect.

Registration has two steps, like トークン発行: the name, the current OTP and the
確認用パスワード on one screen (both checked, both counted); then, for 5 minutes, this
session may fetch creation options and send the new passkey once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from netbank import clock
from netbank.customers import lockout
from netbank.customers import session as customer_session
from netbank.customers.confirm import confirm_page
from netbank.customers.decorators import customer_required
from netbank.customers.forms import LoginForm
from netbank.customers.models import Customer
from netbank.customers.services import transaction_password_check
from netbank.customers.views import passkey_login_urls
from netbank.otp.tokens import confinement
from netbank.otp.tokens.selectors import token_in_use
from netbank.otp.verification import Result, otp_verify
from netbank.passkeys import services
from netbank.passkeys.forms import RegisterForm, RemoveForm, RenameForm
from netbank.passkeys.models import Passkey
from netbank.passkeys.services import PasskeyError
from netbank.web.api_json import JsonApiError, parse_json_object
from netbank.web.client_address import client_address

# Set when the OTP and the 確認用パスワード passed: {customer_id, name, at}.
REGISTER_AUTHORISED = "passkey_register"
REGISTER_DONE = "passkey_register_done"
REGISTER_SECONDS = 5 * 60
# A WebAuthn answer is a few kilobytes at most.
MAX_CREDENTIAL_CHARS = 16_384


def _customer(request: HttpRequest) -> Customer:
    return cast(Customer, request.customer)  # type: ignore[attr-defined]


def _credential(request: HttpRequest) -> dict[str, Any] | None:
    """The browser's answer from the form post, read by the one strict JSON reader."""
    raw = request.POST.get("credential", "")
    if not raw or len(raw) > MAX_CREDENTIAL_CHARS:
        return None
    try:
        return parse_json_object(raw.encode("utf-8", "surrogatepass"))
    except JsonApiError:
        return None


def _otp_check(
    request: HttpRequest, customer: Customer, form: Any, field: str = "code"
) -> bool | None:
    """The current OTP through the one verification sequence; its refusal goes on the
    form. None when the customer has no token in use."""
    token = token_in_use(customer)
    if token is None:
        return None
    outcome = otp_verify(
        token=token,
        code=form.cleaned_data[field],
        channel="web",
        ip=client_address(request),
    )
    if outcome.accepted:
        return True
    if outcome.result is not Result.LOCKED:
        form.add_error(field, _("ワンタイムパスワードが正しくありません。"))
    return False


def _digits(customer: Customer) -> int:
    token = token_in_use(customer)
    return token.digits if token is not None else 6


# --- 各種お申込・手続き → パスキー ---------------------------------------------------------


@never_cache
@require_GET
@customer_required
def list_view(request: HttpRequest) -> HttpResponse:
    """パスキー: the customer's passkeys, and the way to add one."""
    customer = _customer(request)
    done = request.GET.get("done")
    return render(
        request,
        "passkeys/list.html",
        {
            "passkeys": services.passkeys_of(customer),
            "can_register": services.registration_allowed(customer),
            "done": done if done in {"renamed", "removed"} else None,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
def register_view(request: HttpRequest) -> HttpResponse:
    """パスキーの登録: name, the current OTP and the 確認用パスワード → 次へ."""
    customer = _customer(request)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        request.session.pop(REGISTER_AUTHORISED, None)
        return redirect("passkeys:list")
    if not services.registration_allowed(customer):
        return redirect("passkeys:list")
    form = RegisterForm(
        request.POST if request.method == "POST" else None, digits=_digits(customer)
    )

    def act() -> HttpResponse | None:
        ip = client_address(request)
        checked = transaction_password_check(
            customer=customer, password=form.cleaned_data["transaction_password"], ip=ip
        )
        if not checked.ok:
            if not checked.locked:
                form.add_error("transaction_password", checked.message)
            return None
        if not _otp_check(request, customer, form):
            return None
        request.session[REGISTER_AUTHORISED] = {
            "customer_id": customer.pk,
            "name": form.cleaned_data["name"],
            "at": clock.timestamp(),
        }
        return redirect("passkeys:register_create")

    return confirm_page(
        request,
        customer=customer,
        form=form,
        act=act,
        locks=(lockout.TRANSACTION_PASSWORD, lockout.OTP),
        page=lambda status: render(
            request, "passkeys/register.html", {"form": form}, status=status
        ),
    )


def _authorised_name(request: HttpRequest, customer: Customer) -> str | None:
    state = request.session.get(REGISTER_AUTHORISED)
    if (
        not isinstance(state, dict)
        or state.get("customer_id") != customer.pk
        or clock.timestamp() - float(state.get("at", 0)) > REGISTER_SECONDS
    ):
        return None
    name = state.get("name")
    return name if isinstance(name, str) else None


def _own(customer: Customer, passkey_id: int) -> Passkey | None:
    return Passkey.objects.filter(pk=passkey_id, customer=customer, revoked_at__isnull=True).first()


def _own_passkey(
    view: Callable[[HttpRequest, Customer, Passkey], HttpResponse],
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A screen about one of the customer's passkeys gets the customer and the passkey;
    another's, a revoked one, or 戻る: back to the list."""

    @wraps(view)
    def wrapped(request: HttpRequest, passkey_id: int) -> HttpResponse:
        customer = _customer(request)
        passkey = _own(customer, passkey_id)
        if passkey is None or request.POST.get("action") == "back":
            return redirect("passkeys:list")
        return view(request, customer, passkey)

    return wrapped


def _registration_authorised(
    view: Callable[[HttpRequest, Customer, str], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """The steps after the registration's 確認 get the customer and the name they
    authorised; without a valid authorisation (none, another customer's, expired), back
    to the 確認."""

    @wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        customer = _customer(request)
        name = _authorised_name(request, customer)
        if name is None:
            return redirect("passkeys:register")
        return view(request, customer, name)

    return wrapped


@never_cache
@require_GET
@customer_required
@_registration_authorised
def register_create_view(request: HttpRequest, customer: Customer, name: str) -> HttpResponse:
    """パスキーの作成: the browser makes the passkey (passkey.js, on the button)."""
    return render(request, "passkeys/register_create.html", {"name": name})


@never_cache
@require_POST
@customer_required
def register_options_view(request: HttpRequest) -> HttpResponse:
    """Creation options (JSON) for an authorised registration."""
    customer = _customer(request)
    if _authorised_name(request, customer) is None:
        return JsonResponse({"error": _expired_registration()}, status=403)
    try:
        options = services.registration_options(customer=customer)
    except PasskeyError as exc:
        return JsonResponse({"error": exc.message}, status=403)
    response = JsonResponse(options)
    response["Cache-Control"] = "no-store"
    return response


def _expired_registration() -> str:
    return _("パスキーの登録の有効期限が切れました。お手数ですが、最初からやり直してください。")


@never_cache
@require_POST
@customer_required
@_registration_authorised
def register_finish_view(request: HttpRequest, customer: Customer, name: str) -> HttpResponse:
    """The new passkey from the browser: verified and stored, then パスキーの登録（完了）."""
    credential = _credential(request)
    try:
        if credential is None:
            raise PasskeyError(
                _("パスキーを登録できませんでした。もう一度お試しください。"), code="malformed"
            )
        passkey = services.register(
            customer=customer, response=credential, name=name, ip=client_address(request)
        )
    except PasskeyError as exc:
        if exc.code == "challenge":
            request.session.pop(REGISTER_AUTHORISED, None)
        return render(
            request,
            "passkeys/register_create.html",
            {"name": name, "error": exc.message},
            status=400,
        )
    request.session.pop(REGISTER_AUTHORISED, None)
    request.session[REGISTER_DONE] = passkey.pk
    return redirect("passkeys:register_done")


@never_cache
@require_GET
@customer_required
def register_done_view(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    passkey_id = request.session.get(REGISTER_DONE)
    passkey = _own(customer, passkey_id) if isinstance(passkey_id, int) else None
    if passkey is None:
        return redirect("passkeys:list")
    return render(request, "passkeys/register_done.html", {"passkey": passkey})


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
@_own_passkey
def rename_view(request: HttpRequest, customer: Customer, passkey: Passkey) -> HttpResponse:
    """パスキーの名前の変更."""
    form = RenameForm(
        request.POST if request.method == "POST" else None, initial={"name": passkey.name}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.rename(
                    customer=customer, passkey_id=passkey.pk, name=form.cleaned_data["name"]
                )
            except PasskeyError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect(reverse("passkeys:list") + "?done=renamed")
    return render(
        request, "passkeys/rename.html", {"form": form, "passkey": passkey}, status=status
    )


@never_cache
@require_http_methods(["GET", "POST"])
@customer_required
@_own_passkey
def remove_view(request: HttpRequest, customer: Customer, passkey: Passkey) -> HttpResponse:
    """パスキーの削除（確認）: the last one needs the current OTP."""
    last = services.is_last(customer=customer, passkey_id=passkey.pk)
    has_token = token_in_use(customer) is not None
    form = RemoveForm(
        request.POST if request.method == "POST" else None,
        needs_otp=last,
        digits=_digits(customer),
    )

    def act() -> HttpResponse | None:
        otp_checked = False
        if last:
            checked = _otp_check(request, customer, form)
            if checked is None:
                form.add_error(
                    None,
                    _(
                        "ワンタイムパスワードをご利用中でないため、最後のパスキーは削除できません。"
                        "ヘルプデスクへご連絡ください。"
                    ),
                )
            if not checked:
                return None
            otp_checked = True
        try:
            services.remove(
                customer=customer,
                passkey_id=passkey.pk,
                ip=client_address(request),
                otp_checked=otp_checked,
            )
        except PasskeyError as exc:
            form.add_error(None, exc.message)
            return None
        return redirect(reverse("passkeys:list") + "?done=removed")

    return confirm_page(
        request,
        customer=customer,
        form=form,
        act=act,
        locks=(lockout.OTP,) if last else (),
        page=lambda status: render(
            request,
            "passkeys/remove.html",
            {"form": form, "passkey": passkey, "last": last, "has_token": has_token},
            status=status,
        ),
    )


# --- login with a passkey ---------------------------------------------------------------


@never_cache
@require_POST
def login_options_view(request: HttpRequest) -> HttpResponse:
    """Options (JSON) for a login with any of the bank's passkeys (discoverable)."""
    if not services.login_options_allowed(ip=client_address(request)):
        return JsonResponse({"error": services.throttled_message()}, status=429)
    response = JsonResponse(services.login_options())
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_POST
def login_view(request: HttpRequest) -> HttpResponse:
    """The browser's assertion: a verified passkey is both factors (no password, no
    OTP), and the session is a full login's, channel "passkey"."""
    credential = _credential(request)
    outcome = services.authenticate(
        response=credential if credential is not None else {},
        purpose="login",
        ip=client_address(request),
    )
    if outcome.accepted and outcome.customer is not None:
        customer = outcome.customer
        # OTP mandatory and no token in use any more: the session may only set it up,
        # as after a password login (netbank.otp.tokens.confinement).
        setup_only = confinement.otp_mandatory() and token_in_use(customer) is None
        customer_session.session_login(
            request, customer, channel="passkey", otp_setup_only=setup_only
        )
        return redirect("otp:menu" if setup_only else "customers:top")
    status = {"throttled": 429, "suspended": 403, "locked": 403}.get(outcome.reason, 400)
    form = LoginForm()
    return render(
        request,
        "customers/login.html",
        {
            "form": form,
            "passkey_error": outcome.message,
            "ended": None,
            "passkey_login": passkey_login_urls(),
        },
        status=status,
    )
