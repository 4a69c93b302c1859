"""The encrypted vault: the app's tokens on disk behind the app lock (PIN).

File layout (JSON, one object)::

    format, version, vault_id, device_secret ("keyring" | "file"), generation,
    kdf {algorithm, time_cost, memory_cost, parallelism, salt}     ← header
    lock {failures, last_failure_at}                               ← PIN failure counter (copy)
    nonce, ciphertext                                              ← AES-256-GCM(tokens)
    mac                                                            ← HMAC over all of the above

Keys:
- ``pin_key = Argon2id(PIN, salt, params from the header)``
- ``vault_key = HKDF-SHA256(ikm=pin_key, salt=device_secret, info=… vault_id)`` encrypts
  the tokens with the header as AAD.
- ``mac_key = HKDF-SHA256(ikm=device_secret, info=… vault_id)`` authenticates the whole
  file, including the failure counter that changes without the PIN. A file changed by
  anyone without the device secret is refused before any PIN is tried, so tampering
  never counts as (or hides behind) a wrong PIN.

Wrong PINs: the counter is raised *before* the key derivation (and reset after a
success), so killing the app mid-attempt does not give a free try. From the third
failure on the next try waits 15 s, doubling each time; the tenth failure wipes the
vault (device secret first, then the file). Time comes from an injectable clock.

The counter that counts is kept outside the vault file too, in the state folder
(``<vault_id>.pin-failures``, MAC'd with the device secret; ``paths.state_dir_for``):
the higher of the two wins, so putting back an older copy of the vault file (from a
backup of the data folder) does not reset it.

Without a keyring (the device secret in a file, ``"file"``) the PIN and Argon2 are all
that stands between a copy of both files and the tokens, so that mode asks for 8 digits
or a passphrase (``pin_check_new``) and a costlier Argon2 (``FILE_KDF``). The parameters
are in each header: a vault made with older ones still opens, and is moved to the
current ones at its next unlock.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import secrets
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from netbank.digits import is_ascii_digits
from netbank.token_app.devicesecret import (
    DeviceSecretError,
    DeviceSecretStore,
    FileSecretStore,
    KeyringSecretStore,
    keyring_usable,
    new_device_secret,
)
from netbank.token_app.fileio import atomic_write, exclusive_lock, read_private_file, remove_file
from netbank.token_app.paths import StateDirError, legacy_device_secret_file_for, state_dir_for

FORMAT = "netbank-token-vault"
VERSION = 1
MAX_PIN_FAILURES = 10
WARN_WHEN_ATTEMPTS_LEFT = 3
FREE_FAILURES = 2  # the first two slips cost nothing; a delay starts with the third
FIRST_DELAY_SECONDS = 15.0
MAX_FILE_BYTES = 1 << 20
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8
# Without a keyring: 8 digits, or a passphrase of at least 12 characters.
FILE_PIN_DIGITS = 8
PASSPHRASE_MIN_CHARS = 12
# A token's label (the bank's name by default), as the app's screens and commands take it.
LABEL_MAX = 40
PASSPHRASE_MAX_CHARS = 128

Clock = Callable[[], float]


# --- errors -------------------------------------------------------------------------


class VaultError(Exception):
    """Base of every vault refusal; ``code`` is a stable machine-readable name."""

    code = "vault_error"


class VaultNotFoundError(VaultError):
    code = "vault_not_found"


class VaultExistsError(VaultError):
    code = "vault_exists"


class VaultTamperedError(VaultError):
    """The file is not one this app wrote for this device (edited, truncated, foreign)."""

    code = "vault_tampered"


class DeviceSecretMissingError(VaultError):
    """The vault's device secret is not on this machine (a copied vault)."""

    code = "device_secret_missing"


class KeyringUnavailableError(DeviceSecretMissingError):
    """The vault's device secret is in the OS keyring, which cannot be used right now
    (no desktop session, a locked or broken keyring). Not a copied vault: try again there."""

    code = "keyring_unavailable"


class VaultChangedError(VaultError):
    """Another window saved the vault after this one unlocked it."""

    code = "vault_changed"


class InvalidPinError(VaultError):
    """Not 4–8 ASCII digits (nor a passphrase). Not counted: the format is no secret."""

    code = "invalid_pin"


class PinTooWeakError(InvalidPinError):
    """A new PIN for a vault without a keyring: 8 digits or a passphrase are required."""

    code = "pin_too_weak"


class StateFolderError(VaultError):
    """The state folder (device secret, PIN counter) is inside the app's data folder."""

    code = "state_dir_invalid"


class WrongPinError(VaultError):
    """The PIN did not open the vault. Says how many tries are left and nothing else."""

    code = "wrong_pin"

    def __init__(self, *, attempts_left: int, retry_at: float | None) -> None:
        super().__init__(f"wrong PIN; {attempts_left} attempts left")
        self.attempts_left = attempts_left
        self.retry_at = retry_at

    @property
    def warn(self) -> bool:
        return self.attempts_left <= WARN_WHEN_ATTEMPTS_LEFT


class PinDelayError(VaultError):
    """Too soon after a wrong PIN; nothing was tried."""

    code = "pin_delay"

    def __init__(self, *, retry_at: float, wait_seconds: float, attempts_left: int) -> None:
        super().__init__(f"wait {wait_seconds:.0f} s before the next PIN")
        self.retry_at = retry_at
        self.wait_seconds = wait_seconds
        self.attempts_left = attempts_left

    @property
    def warn(self) -> bool:
        return self.attempts_left <= WARN_WHEN_ATTEMPTS_LEFT


class VaultWipedError(VaultError):
    """The tenth wrong PIN: the vault and its device secret are gone."""

    code = "vault_wiped"


# --- parameters and records -----------------------------------------------------------


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost. Stored in the header so a vault keeps opening after defaults change."""

    time_cost: int
    memory_cost: int  # KiB
    parallelism: int
    hash_len: int = 32

    def check(self) -> None:
        if not (1 <= self.parallelism <= 64):
            raise ValueError("parallelism out of range")
        if not (1 <= self.time_cost <= 64):
            raise ValueError("time_cost out of range")
        if not (8 * self.parallelism <= self.memory_cost <= 4 * 1024 * 1024):
            raise ValueError("memory_cost out of range")
        if self.hash_len != 32:
            raise ValueError("hash_len must be 32")


# RFC 9106 section 4, second recommended option (for memory-constrained devices):
# Argon2id, t=3, m=64 MiB, p=4. About 0.14 s on this project's 2-core machine. Used with
# a keyring, where a copied vault file is useless without the keyring's secret.
PRODUCTION_KDF = KdfParams(time_cost=3, memory_cost=64 * 1024, parallelism=4)
# Without a keyring a copy of both files leaves only the PIN and this: four times the
# memory, the most a phone-class budget allows (256 MiB; 0.9 CPU-s a try, about 0.45 s
# on this project's 2-core machine, docs/token-app.md).
FILE_KDF = KdfParams(time_cost=3, memory_cost=256 * 1024, parallelism=4)


def default_kdf(kind: str) -> KdfParams:
    """The Argon2 parameters for a vault keeping its device secret in ``kind``."""
    return FILE_KDF if kind == "file" else PRODUCTION_KDF


def kdf_weaker(stored: KdfParams, target: KdfParams) -> bool:
    return stored.memory_cost < target.memory_cost or stored.time_cost < target.time_cost


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("bad base64") from exc


@dataclass(frozen=True)
class TokenRecord:
    """One activated token as the vault keeps it."""

    label: str
    bank_url: str
    service_id: str
    user_id: str
    seed: bytes = field(repr=False)
    signing_key: bytes = field(repr=False)
    algorithm: str = "SHA1"
    digits: int = 6
    period: int = 30
    server_time_offset: float = 0.0  # server clock minus device clock, seconds
    added_at: float = 0.0
    time_checked_at: float = 0.0  # when server_time_offset was last measured
    # At that measurement: the boot id and the device clock minus the time since boot,
    # so that a later change of the device clock shows (timecheck.clock_moved).
    clock_boot_id: str = ""
    clock_wall_at_boot: float = 0.0
    bank_name: str = ""
    helpdesk: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["seed"] = _b64(self.seed)
        doc["signing_key"] = _b64(self.signing_key)
        return doc

    @classmethod
    def from_json(cls, doc: object) -> TokenRecord:
        if not isinstance(doc, dict):
            raise ValueError("token is not an object")
        helpdesk = doc.get("helpdesk") or {}
        if not isinstance(helpdesk, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in helpdesk.items()
        ):
            raise ValueError("helpdesk must map text to text")
        record = cls(
            label=_text(doc, "label"),
            bank_url=_text(doc, "bank_url"),
            service_id=_text(doc, "service_id"),
            user_id=_text(doc, "user_id"),
            seed=_unb64(doc.get("seed")),
            signing_key=_unb64(doc.get("signing_key")),
            algorithm=_text(doc, "algorithm"),
            digits=_int(doc, "digits"),
            period=_int(doc, "period"),
            server_time_offset=_number(doc, "server_time_offset"),
            added_at=_number(doc, "added_at"),
            time_checked_at=_number(doc, "time_checked_at", 0.0),
            clock_boot_id=str(doc.get("clock_boot_id") or ""),
            clock_wall_at_boot=_number(doc, "clock_wall_at_boot", 0.0),
            bank_name=str(doc.get("bank_name") or ""),
            helpdesk=dict(helpdesk),
        )
        return record


def _text(doc: dict[str, Any], key: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text")
    return value


def _int(doc: dict[str, Any], key: str) -> int:
    value = doc.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key} must be an integer")
    return value


def _number(doc: dict[str, Any], key: str, default: float | None = None) -> float:
    value = doc.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{key} must be a number")
    return float(value)


def _is_digits(pin: str) -> bool:
    return is_ascii_digits(pin, max_length=PASSPHRASE_MAX_CHARS)


def _is_passphrase(pin: str) -> bool:
    text = unicodedata.normalize("NFC", pin)
    return (
        PASSPHRASE_MIN_CHARS <= len(text) <= PASSPHRASE_MAX_CHARS
        and text.isprintable()
        and text == text.strip()
        and not _is_digits(text)
    )


def pin_check(pin: str) -> None:
    """A PIN a vault may be opened with: 4–8 ASCII digits (the leaflet's rule for the
    利用開始パスワード, reused for the PIN), or a passphrase of 12–128 characters."""
    if _is_digits(pin) and PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        return
    if _is_passphrase(pin):
        return
    raise InvalidPinError("the PIN must be 4 to 8 digits or a passphrase")


def pin_check_new(pin: str, kind: str) -> None:
    """A PIN a vault keeping its device secret in ``kind`` may be given (create, change).

    With a keyring: 4–8 digits, the rule so far (a passphrase is accepted too). Without
    one: 8 digits or a passphrase, since a copy of the vault and its secret file can be
    searched offline over every PIN."""
    pin_check(pin)
    if kind == "file" and not (_is_passphrase(pin) or len(pin) == FILE_PIN_DIGITS):
        raise PinTooWeakError("without a keyring the PIN must be 8 digits or a passphrase")


def _pin_bytes(pin: str) -> bytes:
    # NFC, so the same passphrase typed on another keyboard gives the same bytes; ASCII
    # digits are unchanged, so vaults made before passphrases existed open as before.
    return unicodedata.normalize("NFC", pin).encode("utf-8")


def failure_delay(failures: int) -> float:
    """Seconds to wait before the next PIN after ``failures`` consecutive wrong ones."""
    if failures <= FREE_FAILURES:
        return 0.0
    return FIRST_DELAY_SECONDS * float(2 ** (failures - FREE_FAILURES - 1))


@dataclass(frozen=True)
class LockStatus:
    failures: int
    attempts_left: int
    retry_at: float | None  # None: a PIN may be tried now

    @property
    def warn(self) -> bool:
        return 0 < self.attempts_left <= WARN_WHEN_ATTEMPTS_LEFT


# --- the file ------------------------------------------------------------------------


def _canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _hkdf(ikm: bytes, *, salt: bytes | None, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info.encode()).derive(ikm)


def _mac_key(device_secret: bytes, vault_id: str) -> bytes:
    return _hkdf(device_secret, salt=None, info=f"netbank-token vault mac v1|{vault_id}")


def _vault_key(pin: str, kdf: KdfParams, salt: bytes, device_secret: bytes, vault_id: str) -> bytes:
    pin_key = hash_secret_raw(
        _pin_bytes(pin),
        salt,
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_cost,
        parallelism=kdf.parallelism,
        hash_len=kdf.hash_len,
        type=Type.ID,
    )
    return _hkdf(pin_key, salt=device_secret, info=f"netbank-token vault key v1|{vault_id}")


@dataclass
class _Document:
    """A parsed vault file whose MAC has been checked."""

    vault_id: str
    device_secret_kind: str
    generation: int
    kdf: KdfParams
    salt: bytes
    failures: int
    last_failure_at: float | None
    nonce: bytes
    ciphertext: bytes

    def header(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "vault_id": self.vault_id,
            "device_secret": self.device_secret_kind,
            "generation": self.generation,
            "kdf": {
                "algorithm": "argon2id",
                "time_cost": self.kdf.time_cost,
                "memory_cost": self.kdf.memory_cost,
                "parallelism": self.kdf.parallelism,
                "hash_len": self.kdf.hash_len,
                "salt": _b64(self.salt),
            },
        }

    def unsigned(self) -> dict[str, Any]:
        doc = self.header()
        doc["lock"] = {"failures": self.failures, "last_failure_at": self.last_failure_at}
        doc["nonce"] = _b64(self.nonce)
        doc["ciphertext"] = _b64(self.ciphertext)
        return doc

    def serialise(self, mac_key: bytes) -> bytes:
        doc = self.unsigned()
        doc["mac"] = _b64(hmac.new(mac_key, _canonical(doc), hashlib.sha256).digest())
        return json.dumps(doc, indent=1, sort_keys=True).encode("ascii") + b"\n"


def _parse_untrusted(raw: bytes) -> tuple[dict[str, Any], str, str]:
    """Just enough of the file to find its device secret: (doc, vault_id, store kind)."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VaultTamperedError("the vault file is not valid JSON") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise VaultTamperedError("the file is not a netbank-token vault")
    if doc.get("version") != VERSION:
        raise VaultTamperedError(f"unsupported vault version {doc.get('version')!r}")
    vault_id = doc.get("vault_id")
    kind = doc.get("device_secret")
    if not isinstance(vault_id, str) or not (8 <= len(vault_id) <= 64) or not vault_id.isalnum():
        raise VaultTamperedError("the vault id is malformed")
    if kind not in ("keyring", "file"):
        raise VaultTamperedError("the vault names an unknown device-secret store")
    return doc, vault_id, str(kind)


def _verify_and_parse(doc: dict[str, Any], vault_id: str, kind: str, mac_key: bytes) -> _Document:
    mac = doc.get("mac")
    unsigned = {k: v for k, v in doc.items() if k != "mac"}
    try:
        given = _unb64(mac)
    except ValueError as exc:
        raise VaultTamperedError("the vault's integrity code is missing") from exc
    expected = hmac.new(mac_key, _canonical(unsigned), hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise VaultTamperedError("the vault file has been altered or belongs to another device")
    try:
        kdf_doc = doc["kdf"]
        lock = doc["lock"]
        if kdf_doc.get("algorithm") != "argon2id":
            raise ValueError("unknown KDF")
        kdf = KdfParams(
            time_cost=_int(kdf_doc, "time_cost"),
            memory_cost=_int(kdf_doc, "memory_cost"),
            parallelism=_int(kdf_doc, "parallelism"),
            hash_len=_int(kdf_doc, "hash_len"),
        )
        kdf.check()
        last = lock.get("last_failure_at")
        parsed = _Document(
            vault_id=vault_id,
            device_secret_kind=kind,
            generation=_int(doc, "generation"),
            kdf=kdf,
            salt=_unb64(kdf_doc.get("salt")),
            failures=_int(lock, "failures"),
            last_failure_at=None if last is None else _number(lock, "last_failure_at"),
            nonce=_unb64(doc.get("nonce")),
            ciphertext=_unb64(doc.get("ciphertext")),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise VaultTamperedError(f"the vault file is malformed: {exc}") from exc
    if len(parsed.nonce) != 12 or len(parsed.salt) < 16 or parsed.failures < 0:
        raise VaultTamperedError("the vault file is malformed")
    if set(unsigned) != set(parsed.unsigned()):
        raise VaultTamperedError("the vault file has unexpected fields")
    return parsed


# --- the wrong-PIN counter outside the vault file ----------------------------------------


def _counter_key(device_secret: bytes, vault_id: str) -> bytes:
    return _hkdf(device_secret, salt=None, info=f"netbank-token pin counter v1|{vault_id}")


class _PinCounter:
    """``<vault_id>.pin-failures`` in the state folder: failures and the last one's time,
    with an HMAC under a key from the device secret (so it is this vault's, unedited)."""

    def __init__(self, folder: Path, vault_id: str, device_secret: bytes) -> None:
        self.path = folder / f"{vault_id}.pin-failures"
        self.vault_id = vault_id
        self.key = _counter_key(device_secret, vault_id)

    def _mac(self, doc: dict[str, Any]) -> str:
        return _b64(hmac.new(self.key, _canonical(doc), hashlib.sha256).digest())

    def read(self) -> tuple[int, float | None] | None:
        """(failures, last_failure_at), or None when there is no counter yet."""
        try:
            raw = read_private_file(self.path, limit=4096)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise VaultTamperedError(f"cannot read the PIN counter: {exc}") from exc
        try:
            doc = json.loads(raw)
            given = _unb64(doc.pop("mac"))
            failures = _int(doc, "failures")
            last = doc.get("last_failure_at")
            last_at = None if last is None else _number(doc, "last_failure_at")
            ok = doc.get("vault_id") == self.vault_id and failures >= 0
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise VaultTamperedError("the PIN counter file is malformed") from exc
        expected = hmac.new(self.key, _canonical(doc), hashlib.sha256).digest()
        if not ok or not hmac.compare_digest(given, expected):
            raise VaultTamperedError("the PIN counter file has been altered")
        return failures, last_at

    def write(self, failures: int, last_failure_at: float | None) -> None:
        doc: dict[str, Any] = {
            "vault_id": self.vault_id,
            "failures": failures,
            "last_failure_at": last_failure_at,
        }
        doc["mac"] = self._mac(doc)
        atomic_write(self.path, json.dumps(doc, sort_keys=True).encode("ascii") + b"\n")


# --- the vault -------------------------------------------------------------------------


class Vault:
    """A vault file on this machine. ``unlock`` with the PIN gives an :class:`UnlockedVault`."""

    def __init__(
        self,
        path: Path,
        *,
        secret_store: DeviceSecretStore | None = None,
        kdf: KdfParams | None = None,
        clock: Clock = time.time,
        state_dir: Path | None = None,
    ) -> None:
        """``kdf`` None: the parameters for the vault's mode (``default_kdf``); a test
        passes cheap ones. ``state_dir`` None: ``paths.state_dir_for(path)``."""
        self.path = path
        self._store = secret_store
        self.kdf = kdf
        self.clock = clock
        self._state_dir = state_dir

    def stored_kind(self) -> str | None:
        """Where the vault file says its device secret is ("keyring" or "file"), read
        without any check (to choose a PIN field); None without a readable vault."""
        try:
            _doc, _vault_id, kind = _parse_untrusted(
                read_private_file(self.path, limit=MAX_FILE_BYTES)
            )
        except (OSError, VaultError):
            return None
        return kind

    def kdf_for(self, kind: str) -> KdfParams:
        return self.kdf if self.kdf is not None else default_kdf(kind)

    def state_dir(self) -> Path:
        if self._state_dir is not None:
            return self._state_dir
        try:
            return state_dir_for(self.path)
        except StateDirError as exc:
            raise StateFolderError(str(exc)) from exc

    def _file_store(self) -> FileSecretStore:
        """The device secret without a keyring: in the state folder (moved there from
        beside the vault, where earlier versions kept it)."""
        return FileSecretStore(self.state_dir(), legacy=legacy_device_secret_file_for(self.path))

    def _counter(self, vault_id: str, device_secret: bytes) -> _PinCounter:
        return _PinCounter(self.state_dir(), vault_id, device_secret)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        return self.path.is_file()

    # -- reading ------------------------------------------------------------------------

    def _store_for(self, kind: str) -> DeviceSecretStore:
        if self._store is not None:
            if self._store.kind != kind:
                raise DeviceSecretMissingError(
                    f"the vault keeps its device secret in the {kind} store, not available here"
                )
            return self._store
        if kind == "file":
            return self._file_store()
        store = KeyringSecretStore() if kind == "keyring" and keyring_usable() else None
        if store is None:
            raise KeyringUnavailableError(
                "the vault's device secret is in the OS keyring, unusable now"
            )
        return store

    def _load(self) -> tuple[_Document, DeviceSecretStore, bytes]:
        try:
            raw = read_private_file(self.path, limit=MAX_FILE_BYTES)
        except FileNotFoundError:
            raise VaultNotFoundError(f"no vault at {self.path}") from None
        except OSError as exc:
            raise VaultTamperedError(f"cannot read the vault: {exc}") from exc
        doc, vault_id, kind = _parse_untrusted(raw)
        store = self._store_for(kind)
        try:
            device_secret = store.load(vault_id)
        except DeviceSecretError as exc:
            if kind == "keyring":
                raise KeyringUnavailableError(str(exc)) from exc
            raise DeviceSecretMissingError(str(exc)) from exc
        if device_secret is None:
            raise DeviceSecretMissingError(
                "this vault's device secret is not on this machine (a copied vault cannot be opened)"
            )
        parsed = _verify_and_parse(doc, vault_id, kind, _mac_key(device_secret, vault_id))
        # The counter outside the file wins when higher: an older copy of the vault file
        # put back does not bring back the tries it had.
        outside = self._counter(vault_id, device_secret).read()
        if outside is not None and outside[0] > parsed.failures:
            parsed.failures, parsed.last_failure_at = outside
        return parsed, store, device_secret

    def _write(self, parsed: _Document, device_secret: bytes) -> None:
        # The counter first: a crash between the two writes leaves the try counted.
        self._counter(parsed.vault_id, device_secret).write(parsed.failures, parsed.last_failure_at)
        atomic_write(self.path, parsed.serialise(_mac_key(device_secret, parsed.vault_id)))

    def status(self) -> LockStatus:
        """The PIN failure state (checked for tampering), without trying a PIN."""
        with exclusive_lock(self.lock_path):
            parsed, _store, _secret = self._load()
        return self._status(parsed)

    def _status(self, parsed: _Document) -> LockStatus:
        retry_at: float | None = None
        if parsed.failures and parsed.last_failure_at is not None:
            candidate = parsed.last_failure_at + failure_delay(parsed.failures)
            if self.clock() < candidate:
                retry_at = candidate
        return LockStatus(
            failures=parsed.failures,
            attempts_left=max(0, MAX_PIN_FAILURES - parsed.failures),
            retry_at=retry_at,
        )

    # -- creating -------------------------------------------------------------------------

    def create(self, pin: str, tokens: Sequence[TokenRecord] = ()) -> UnlockedVault:
        """A new vault under ``pin``. Refuses to overwrite an existing one."""
        pin_check(pin)
        store = self._store
        if store is None:
            store = KeyringSecretStore() if keyring_usable() else self._file_store()
        pin_check_new(pin, store.kind)
        kdf = self.kdf_for(store.kind)
        kdf.check()
        self.state_dir()  # refused before anything is written if it is misplaced (keyring)
        with exclusive_lock(self.lock_path):
            if self.exists():
                raise VaultExistsError(f"a vault already exists at {self.path}")
            vault_id = secrets.token_hex(16)
            device_secret = new_device_secret()
            try:
                store.store(vault_id, device_secret)
            except DeviceSecretError as exc:
                raise DeviceSecretMissingError(str(exc)) from exc
            salt = secrets.token_bytes(16)
            key = _vault_key(pin, kdf, salt, device_secret, vault_id)
            parsed = _Document(
                vault_id=vault_id,
                device_secret_kind=store.kind,
                generation=0,
                kdf=kdf,
                salt=salt,
                failures=0,
                last_failure_at=None,
                nonce=b"\0" * 12,
                ciphertext=b"",
            )
            unlocked = UnlockedVault(self, parsed, device_secret, key, list(tokens))
            try:
                unlocked._save_locked()
            except BaseException:
                # No vault was written: leave no orphaned secret in the keyring either.
                with contextlib.suppress(DeviceSecretError):
                    store.delete(vault_id)
                raise
            return unlocked

    # -- unlocking ------------------------------------------------------------------------

    def unlock(self, pin: str) -> UnlockedVault:
        pin_check(pin)
        with exclusive_lock(self.lock_path):
            parsed, store, device_secret = self._load()
            if parsed.failures >= MAX_PIN_FAILURES:
                self._wipe_locked(parsed.vault_id, store)
                raise VaultWipedError("too many wrong PINs: the vault was wiped")
            status = self._status(parsed)
            if status.retry_at is not None:
                raise PinDelayError(
                    retry_at=status.retry_at,
                    wait_seconds=status.retry_at - self.clock(),
                    attempts_left=status.attempts_left,
                )
            # Count the try before the key derivation: an app killed mid-way still paid.
            parsed.failures += 1
            parsed.last_failure_at = self.clock()
            self._write(parsed, device_secret)
            key = _vault_key(pin, parsed.kdf, parsed.salt, device_secret, parsed.vault_id)
            try:
                tokens = _decrypt_tokens(key, parsed)
            except InvalidTag:
                if parsed.failures >= MAX_PIN_FAILURES:
                    self._wipe_locked(parsed.vault_id, store)
                    raise VaultWipedError("too many wrong PINs: the vault was wiped") from None
                raise WrongPinError(
                    attempts_left=MAX_PIN_FAILURES - parsed.failures,
                    retry_at=(
                        parsed.last_failure_at + failure_delay(parsed.failures)
                        if failure_delay(parsed.failures)
                        else None
                    ),
                ) from None
            parsed.failures = 0
            parsed.last_failure_at = None
            self._write(parsed, device_secret)
            opened = UnlockedVault(self, parsed, device_secret, key, tokens)
            opened._note_pin(pin)
            target = self.kdf_for(parsed.device_secret_kind)
            if kdf_weaker(parsed.kdf, target):
                # Made with older (cheaper) parameters: re-derived under today's, with
                # the PIN the customer just typed, and saved.
                opened._rekey_locked(pin, target)
            return opened

    # -- wiping ---------------------------------------------------------------------------

    def wipe(self) -> None:
        """Delete the vault and its device secret (the customer's own choice, or the 10th PIN)."""
        with exclusive_lock(self.lock_path):
            try:
                raw = read_private_file(self.path, limit=MAX_FILE_BYTES)
            except FileNotFoundError:
                return
            try:
                _doc, vault_id, kind = _parse_untrusted(raw)
                store: DeviceSecretStore | None = self._store_for(kind)
            except (VaultTamperedError, DeviceSecretMissingError, StateFolderError):
                vault_id, store = "", None
            self._wipe_locked(vault_id, store)

    def _wipe_locked(self, vault_id: str, store: DeviceSecretStore | None) -> None:
        # The device secret goes first: without it every copy of the file is noise.
        if store is not None and vault_id:
            # If that fails, the file removal below still takes the tokens off this machine.
            with contextlib.suppress(DeviceSecretError):
                store.delete(vault_id)
        remove_file(self.path)
        if vault_id:
            with contextlib.suppress(StateFolderError, OSError):
                (self.state_dir() / f"{vault_id}.pin-failures").unlink(missing_ok=True)


def _decrypt_tokens(key: bytes, parsed: _Document) -> list[TokenRecord]:
    plaintext = AESGCM(key).decrypt(parsed.nonce, parsed.ciphertext, _canonical(parsed.header()))
    try:
        payload = json.loads(plaintext)
        items = payload["tokens"]
        if not isinstance(items, list):
            raise TypeError("tokens must be a list")
        return [TokenRecord.from_json(item) for item in items]
    except (ValueError, KeyError, TypeError) as exc:
        # Authentic but unreadable: written by a newer or broken app. Never a wrong PIN.
        raise VaultTamperedError(f"the vault's contents are unreadable: {exc}") from exc


class UnlockedVault:
    """The tokens in memory after a correct PIN. Every change is saved at once."""

    def __init__(
        self,
        vault: Vault,
        parsed: _Document,
        device_secret: bytes,
        key: bytes,
        tokens: list[TokenRecord],
    ) -> None:
        self.vault = vault
        self._parsed = parsed
        self._device_secret = device_secret
        self._key = key
        self._tokens = tokens
        self._pin_ok = True

    @property
    def tokens(self) -> tuple[TokenRecord, ...]:
        return tuple(self._tokens)

    @property
    def device_secret_kind(self) -> str:
        return self._parsed.device_secret_kind

    def find(self, label: str | None) -> TokenRecord:
        """The token called ``label`` (case-insensitive), or the only one when ``label`` is None."""
        if label is None:
            if len(self._tokens) == 1:
                return self._tokens[0]
            if not self._tokens:
                raise KeyError("the vault holds no token")
            raise KeyError("several tokens: name one")
        wanted = label.casefold()
        for token in self._tokens:
            if token.label.casefold() == wanted:
                return token
        raise KeyError(label)

    def unique_label(self, base: str) -> str:
        taken = {t.label.casefold() for t in self._tokens}
        if base.casefold() not in taken:
            return base
        n = 2
        while f"{base} ({n})".casefold() in taken:
            n += 1
        return f"{base} ({n})"

    def add(self, token: TokenRecord) -> TokenRecord:
        if any(t.label.casefold() == token.label.casefold() for t in self._tokens):
            raise ValueError(f"a token called {token.label!r} exists")
        self._tokens.append(token)
        try:
            self.save()
        except BaseException:
            self._tokens.pop()
            raise
        return token

    def update(self, label: str, /, **changes: Any) -> TokenRecord:
        current = self.find(label)
        new = replace(current, **changes)
        if new.label.casefold() != current.label.casefold() and any(
            t.label.casefold() == new.label.casefold() for t in self._tokens
        ):
            raise ValueError(f"a token called {new.label!r} exists")
        index = self._tokens.index(current)
        self._tokens[index] = new
        try:
            self.save()
        except BaseException:
            self._tokens[index] = current
            raise
        return new

    def remove(self, label: str) -> TokenRecord:
        token = self.find(label)
        index = self._tokens.index(token)
        self._tokens.pop(index)
        try:
            self.save()
        except BaseException:
            self._tokens.insert(index, token)
            raise
        return token

    def change_pin(self, new_pin: str) -> None:
        pin_check_new(new_pin, self.device_secret_kind)
        with exclusive_lock(self.vault.lock_path):
            self._check_not_changed()
            self._rekey_locked(new_pin, self.vault.kdf_for(self.device_secret_kind))

    def _rekey_locked(self, pin: str, kdf: KdfParams) -> None:
        """Encrypt under ``pin`` with ``kdf`` and a fresh salt (the vault lock held)."""
        kdf.check()
        salt = secrets.token_bytes(16)
        key = _vault_key(pin, kdf, salt, self._device_secret, self._parsed.vault_id)
        old = (self._parsed.salt, self._parsed.kdf, self._key)
        self._parsed.salt, self._parsed.kdf, self._key = salt, kdf, key
        try:
            self._save_locked()
        except BaseException:
            self._parsed.salt, self._parsed.kdf, self._key = old
            raise

    @property
    def pin_meets_current_rule(self) -> bool:
        """False for a vault without a keyring still under a PIN shorter than 8 digits
        (set before that rule): the app asks the customer to change it."""
        return self._pin_ok

    def _note_pin(self, pin: str) -> None:
        try:
            pin_check_new(pin, self.device_secret_kind)
        except InvalidPinError:
            self._pin_ok = False
        else:
            self._pin_ok = True

    def save(self) -> None:
        with exclusive_lock(self.vault.lock_path):
            self._check_not_changed()
            self._save_locked()

    def _check_not_changed(self) -> None:
        on_disk, _store, _secret = self.vault._load()
        if (
            on_disk.vault_id != self._parsed.vault_id
            or on_disk.generation != self._parsed.generation
        ):
            raise VaultChangedError("the vault was changed elsewhere; unlock it again")

    def _save_locked(self) -> None:
        parsed = replace(self._parsed)
        parsed.generation += 1
        parsed.failures = 0
        parsed.last_failure_at = None
        parsed.nonce = secrets.token_bytes(12)
        payload = _canonical({"tokens": [t.to_json() for t in self._tokens]})
        parsed.ciphertext = AESGCM(self._key).encrypt(
            parsed.nonce, payload, _canonical(parsed.header())
        )
        self.vault._write(parsed, self._device_secret)
        self._parsed = parsed
