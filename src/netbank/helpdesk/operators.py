"""Operators: roles, OTP enrolment, and the console login (password + OTP).

Policy (docs/helpdesk.md): every login needs the password and a TOTP code from the
operator's own authenticator (no exemption); the client address is throttled before
any hash; an unknown user name costs the same single Argon2 verification as a wrong
password; ``max_login_failures`` consecutive failures lock the operator until a
supervisor unlocks them (or an administrator re-enrols them); the answer to a failed
login never says which part was wrong, or that the account is locked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from netbank import clock
from netbank.audit.services import record
from netbank.credentials import Verdict, credential_check_locked
from netbank.customers.services import dummy_password_hash
from netbank.customers.throttle import client_key, throttle_hit
from netbank.helpdesk.conf import console_int
from netbank.helpdesk.models import OperatorCredential, operator_seed_aad
from netbank.oath import OtpAuthUri, b32encode, build_uri, totp_verify
from netbank.ops import metrics
from netbank.otp import crypto

GROUP_OPERATOR = "helpdesk_operator"
GROUP_SUPERVISOR = "helpdesk_supervisor"
ROLE_OPERATOR = "operator"
ROLE_SUPERVISOR = "supervisor"
ROLE_GROUPS = {ROLE_OPERATOR: GROUP_OPERATOR, ROLE_SUPERVISOR: GROUP_SUPERVISOR}
SEED_BYTES = 20  # 160 bits, HMAC-SHA1 (what every authenticator app reads)
MIN_PASSWORD_LENGTH = 12
THROTTLE_SCOPE = "helpdesk_login"


class OperatorError(ValueError):
    """An operator account request that cannot be carried out (message is for people)."""


def operator_role(user: AbstractBaseUser | AnonymousUser | None) -> str | None:
    """``supervisor``, ``operator`` or None (not an operator, or inactive)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    names = set(Group.objects.filter(user__pk=user.pk).values_list("name", flat=True))
    if GROUP_SUPERVISOR in names:
        return ROLE_SUPERVISOR
    if GROUP_OPERATOR in names:
        return ROLE_OPERATOR
    return None


# --- the sealed OTP seed ------------------------------------------------------------


def _seal(user_id: int, seed: bytes) -> tuple[str, bytes, bytes]:
    sealed = crypto.seal_bound(aad=operator_seed_aad(user_id), plaintext=seed)
    return sealed.key_id, sealed.nonce, sealed.ciphertext


def _unseal(credential: OperatorCredential) -> bytes:
    return crypto.unseal_bound(
        aad=operator_seed_aad(credential.user_id),
        key_id=credential.secret_key_id,
        nonce=bytes(credential.secret_nonce),
        ciphertext=bytes(credential.secret_ciphertext),
    )


def operator_seeds_reseal(*, batch_size: int = 200) -> tuple[int, int]:
    """Re-seal every operator seed under the current key (after a key rotation), with
    the routine ``rotate-otp-key`` uses. Returns (re-sealed, could not be opened)."""
    (column,) = OperatorCredential.sealed_columns()
    return crypto.sealed_column_rotate(
        column, current=crypto.current_key_id(), batch_size=batch_size
    )


def _otpauth_uri(user: User, seed: bytes) -> str:
    return build_uri(
        OtpAuthUri(
            account=user.get_username(),
            secret=seed,
            issuer=f"{settings.NETBANK_BANK_NAME_EN} Helpdesk",
            algorithm="SHA1",
            digits=console_int("otp_digits"),
            period=console_int("otp_period"),
        )
    )


# --- enrolment ----------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Enrolment:
    """The otpauth URI is shown to the operator once and kept nowhere."""

    user: User
    otpauth_uri: str
    secret_base32: str


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OperatorError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def _enrol(user: User) -> Enrolment:
    seed = secrets.token_bytes(SEED_BYTES)
    key_id, nonce, ciphertext = _seal(user.pk, seed)
    OperatorCredential.objects.update_or_create(
        user=user,
        defaults={
            "secret_key_id": key_id,
            "secret_nonce": nonce,
            "secret_ciphertext": ciphertext,
            "last_step": -1,
            "consecutive_failures": 0,
            "locked_at": None,
            "enrolled_at": clock.now(),
            "confirmed_at": None,
        },
    )
    return Enrolment(user, _otpauth_uri(user, seed), b32encode(seed))


def operator_create(
    *, username: str, password: str, role: str, full_name: str = "", email: str = ""
) -> Enrolment:
    """A new operator with a fresh OTP seed (`netbank create-operator`)."""
    if role not in ROLE_GROUPS:
        raise OperatorError(f"role must be one of {', '.join(sorted(ROLE_GROUPS))}")
    if not username or len(username) > 150:
        raise OperatorError("the user name must have 1 to 150 characters")
    _check_password(password)
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise OperatorError(f"an account named {username!r} exists; use --reenrol")
        user = User(username=username, email=email, first_name=full_name[:150])
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise OperatorError("; ".join(exc.messages)) from None
        user.set_password(password)
        user.save()
        # The migration makes the groups; get_or_create keeps a database that was
        # flushed or restored without them working.
        group, _created = Group.objects.get_or_create(name=ROLE_GROUPS[role])
        user.groups.add(group)
        enrolment = _enrol(user)
        record("helpdesk.operator_created", operator_id=user.pk, role=role)
    return enrolment


def operator_reenrol(*, username: str, password: str | None = None) -> Enrolment:
    """A new OTP seed (lost phone), optionally a new password; also lifts a lock."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        if user is None or operator_role(user) is None:
            raise OperatorError(f"no active operator named {username!r}")
        if password is not None:
            _check_password(password)
            user.set_password(password)  # also ends the operator's sessions (auth hash)
            user.save(update_fields=["password"])
        enrolment = _enrol(user)
        record(
            "helpdesk.operator_reenrolled",
            operator_id=user.pk,
            password_changed=password is not None,
        )
    return enrolment


# --- login --------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    message: str = ""
    throttled: bool = False


def _invalid() -> LoginOutcome:
    return LoginOutcome(
        None,
        _(
            "ユーザー名、パスワードまたはワンタイムパスワードが正しくないか、"
            "アカウントがロックされています。ロックの解除はスーパーバイザーに依頼してください。"
        ),
    )


def _otp_step(credential: OperatorCredential, code: str) -> int | None:
    """The accepted time step, or None (wrong, or at or before the last one accepted)."""
    try:
        seed = _unseal(credential)
    except crypto.SealError:
        return None
    step = totp_verify(
        seed,
        code,
        clock.timestamp(),
        period=console_int("otp_period"),
        digits=console_int("otp_digits"),
        window=console_int("otp_window"),
    )
    if step is None or step <= credential.last_step:
        return None
    return step


def operator_login_check(
    *, username: str, password: str, code: str, ip: str | None
) -> LoginOutcome:
    """Check a console login. The caller logs the returned user in (new session key)."""
    throttle = throttle_hit(
        scope=THROTTLE_SCOPE,
        key=client_key(ip),
        limit=console_int("login_per_ip_per_minute"),
        window_seconds=60,
    )
    if not throttle.allowed:
        if throttle.first_refusal:
            record("helpdesk.login_throttled", ip=ip, limit=throttle.limit)
        return LoginOutcome(
            None,
            _("ログインの試行が多すぎます。しばらくしてから、もう一度お試しください。"),
            throttled=True,
        )
    user = User.objects.filter(username=username).first() if username else None
    with transaction.atomic():
        credential = (
            OperatorCredential.objects.select_for_update().filter(user=user).first()
            if user is not None
            else None
        )
        usable = user is not None and credential is not None and operator_role(user) is not None
        if not usable or user is None or credential is None:
            # The same single hash as for a real operator, so timing tells nothing.
            check_password(password, dummy_password_hash())
            record("helpdesk.login_failed", ip=ip, reason="unknown_user")
            return _invalid()
        # The password's hash runs before the lock is looked at: a locked operator costs
        # the same as any other.
        rows = _OperatorRows(user, credential, user.check_password(password))
        return credential_check_locked(_OperatorOtpCheck(code=code, ip=ip), rows)


@dataclass(frozen=True)
class _OperatorRows:
    user: User
    credential: OperatorCredential  # locked by the caller
    password_ok: bool


class _OperatorCounter:
    """The operator's own lockout (``max_login_failures``, lifted by a supervisor), on the
    credential row; saved by the check's last step."""

    def __init__(self, credential: OperatorCredential, now: datetime) -> None:
        self.credential = credential
        self.now = now

    @property
    def locked(self) -> bool:
        return self.credential.locked_at is not None

    def reset(self) -> None:
        self.credential.consecutive_failures = 0

    def count_failure(self) -> bool:
        self.credential.consecutive_failures += 1
        if self.credential.consecutive_failures >= console_int("max_login_failures"):
            self.credential.locked_at = self.now
            metrics.lockout("operator")
            return True
        return False


class _OperatorOtpCheck:
    """The console login's second factor as a kind of credential (``netbank.credentials``):
    the proof is the accepted time step, consumed by moving ``last_step`` past it."""

    kind = "operator_totp"

    def __init__(self, *, code: str, ip: str | None) -> None:
        self.code = code
        self.ip = ip
        self.now = clock.now()

    def counter(self, locked: _OperatorRows) -> _OperatorCounter:
        return _OperatorCounter(locked.credential, self.now)

    def refuse_locked(self, locked: _OperatorRows) -> LoginOutcome:
        record("helpdesk.login_refused_locked", operator_id=locked.user.pk, ip=self.ip)
        return _invalid()

    def verify(self, locked: _OperatorRows) -> Verdict[int, LoginOutcome]:
        step = _otp_step(locked.credential, self.code) if locked.password_ok else None
        return Verdict(passed=step is not None, proof=step)

    def consume(self, locked: _OperatorRows, proof: int) -> bool:
        # The row is locked and _otp_step refused steps at or before last_step.
        credential = locked.credential
        credential.last_step = proof
        credential.confirmed_at = credential.confirmed_at or self.now
        return True

    def accepted(self, locked: _OperatorRows, proof: int) -> LoginOutcome:
        locked.credential.save(update_fields=["last_step", "consecutive_failures", "confirmed_at"])
        user = locked.user
        user.last_login = self.now
        user.save(update_fields=["last_login"])
        record("helpdesk.login", operator_id=user.pk, ip=self.ip)
        return LoginOutcome(user)

    def rejected(
        self, locked: _OperatorRows, verdict: Verdict[int, LoginOutcome], *, now_locked: bool
    ) -> LoginOutcome:
        user = locked.user
        record(
            "helpdesk.login_failed",
            operator_id=user.pk,
            ip=self.ip,
            reason="otp" if locked.password_ok else "password",
        )
        if now_locked:
            record("helpdesk.operator_locked", operator_id=user.pk, ip=self.ip)
        locked.credential.save(update_fields=["consecutive_failures", "locked_at"])
        return _invalid()


def operator_unlock(*, target: User, supervisor: User, reason: str) -> None:
    """A supervisor lifts another operator's login lock."""
    if operator_role(supervisor) != ROLE_SUPERVISOR:
        raise OperatorError(_("ロックの解除はスーパーバイザーのみ行えます。"))
    if target.pk == supervisor.pk:
        raise OperatorError(_("ご自身のロックは解除できません。"))
    with transaction.atomic():
        credential = OperatorCredential.objects.select_for_update().filter(user=target).first()
        if credential is None or credential.locked_at is None:
            raise OperatorError(_("このオペレーターはロックされていません。"))
        credential.locked_at = None
        credential.consecutive_failures = 0
        credential.save(update_fields=["locked_at", "consecutive_failures"])
        record(
            "helpdesk.operator_unlocked",
            operator_id=supervisor.pk,
            target_operator_id=target.pk,
            reason=reason,
        )
