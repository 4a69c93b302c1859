"""Interoperability with Debian's ``oathtool`` (OATH Toolkit), an independent implementation.

Both directions: codes oathtool generates verify with ours, and codes we generate are
accepted by oathtool's own validator (and equal its output). Skipped only on a developer
machine without oathtool; with ``CI`` set a missing oathtool fails the run.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess

import pytest

from netbank.oath import b32encode, hotp, hotp_verify, time_step, totp, totp_verify

from .vectors import RFC6238_KEYS


@pytest.fixture(scope="module")
def oathtool() -> str:
    path = shutil.which("oathtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("oathtool is required when CI is set (apt-get install -y oathtool)")
        pytest.skip("oathtool is not installed (apt-get install -y oathtool); CI requires it")
    return path


def run(oathtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [oathtool, *args], capture_output=True, text=True, check=False, timeout=30
    )


def generate(oathtool: str, *args: str) -> list[str]:
    result = run(oathtool, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


_rng = random.Random(4226)  # fixed seed: reproducible keys, no secrets involved
KEYS = [_rng.randbytes(n) for n in (16, 20, 20, 32, 64)]
COUNTERS = [0, 1, 9, 1000, 2**32 + 7, 2**63 + 5]
TIMES = [59, 1111111109, 1234567890, 1_700_000_000, 2000000000, 20000000000]


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{len(k)}B")
@pytest.mark.parametrize("digits", [6, 7, 8])
def test_hotp_matches_oathtool_output(oathtool: str, key: bytes, digits: int) -> None:
    for counter in COUNTERS:
        (theirs,) = generate(
            oathtool, "--hotp", f"--digits={digits}", f"--counter={counter}", key.hex()
        )
        assert hotp(key, counter, digits=digits) == theirs


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{len(k)}B")
def test_oathtool_hotp_codes_verify_with_ours(oathtool: str, key: bytes) -> None:
    # oathtool -w 4 prints the codes for counter, counter+1, … counter+4.
    theirs = generate(oathtool, "--hotp", "--counter=500", "--window=4", key.hex())
    assert len(theirs) == 5
    for index, code in enumerate(theirs):
        assert hotp_verify(key, code, 500, look_ahead=4) == 500 + index
    assert hotp_verify(key, theirs[4], 500, look_ahead=3) is None


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{len(k)}B")
@pytest.mark.parametrize("digits", [6, 8])
def test_our_hotp_codes_pass_oathtool_validation(oathtool: str, key: bytes, digits: int) -> None:
    for counter in COUNTERS[:4]:
        ours = hotp(key, counter, digits=digits)
        result = run(
            oathtool, "--hotp", f"--digits={digits}", f"--counter={counter}", key.hex(), ours
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["0"]  # found at position 0: exactly this counter
    wrong = str((int(hotp(key, 0, digits=digits)) + 1) % 10**digits).zfill(digits)
    assert (
        run(oathtool, "--hotp", f"--digits={digits}", "--counter=0", key.hex(), wrong).returncode
        != 0
    )


@pytest.mark.parametrize("algorithm", ["SHA1", "SHA256", "SHA512"])
@pytest.mark.parametrize("digits", [6, 7, 8])
@pytest.mark.parametrize(("period", "t0"), [(30, 0), (60, 0), (45, 600)])
def test_totp_matches_oathtool_output(
    oathtool: str, algorithm: str, digits: int, period: int, t0: int
) -> None:
    key = RFC6238_KEYS[algorithm]
    for now in [t for t in TIMES if t >= t0] + [t0, t0 + period - 1, t0 + period]:
        (theirs,) = generate(
            oathtool,
            f"--totp={algorithm}",
            f"--digits={digits}",
            f"--time-step-size={period}s",
            f"--start-time=@{t0}",
            f"--now=@{now}",
            key.hex(),
        )
        assert totp(key, now, period=period, digits=digits, algorithm=algorithm, t0=t0) == theirs


@pytest.mark.parametrize("algorithm", ["SHA1", "SHA256", "SHA512"])
@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{len(k)}B")
def test_oathtool_totp_codes_verify_with_ours(oathtool: str, algorithm: str, key: bytes) -> None:
    now = 1_700_000_013
    step = time_step(now)
    # The code oathtool shows one step later (a phone clock 30 s fast) still verifies,
    # and our verifier says which step it was.
    for offset in (-1, 0, 1):
        (theirs,) = generate(
            oathtool,
            f"--totp={algorithm}",
            f"--now=@{now + 30 * offset}",
            "--base32",
            b32encode(key),
        )
        assert totp_verify(key, theirs, now, algorithm=algorithm, window=1) == step + offset
    (far,) = generate(oathtool, f"--totp={algorithm}", f"--now=@{now + 90}", key.hex())
    assert totp_verify(key, far, now, algorithm=algorithm, window=1) is None


@pytest.mark.parametrize("algorithm", ["SHA1", "SHA256", "SHA512"])
@pytest.mark.parametrize("digits", [6, 8])
def test_our_totp_codes_pass_oathtool_validation(
    oathtool: str, algorithm: str, digits: int
) -> None:
    key = RFC6238_KEYS[algorithm]
    for now in TIMES:
        ours = totp(key, now, digits=digits, algorithm=algorithm, period=60)
        args = [
            f"--totp={algorithm}",
            f"--digits={digits}",
            "--time-step-size=60s",
            f"--now=@{now}",
        ]
        accepted = run(oathtool, *args, "--window=0", key.hex(), ours)
        assert accepted.returncode == 0, accepted.stderr
        # The same code is stale two minutes later: oathtool agrees it is time-bound.
        later = [
            f"--totp={algorithm}",
            f"--digits={digits}",
            "--time-step-size=60s",
            f"--now=@{now + 120}",
        ]
        assert run(oathtool, *later, "--window=0", key.hex(), ours).returncode != 0


def test_base32_keys_mean_the_same_to_oathtool(oathtool: str) -> None:
    for key in KEYS:
        (from_hex,) = generate(oathtool, "--hotp", "--counter=42", key.hex())
        (from_b32,) = generate(oathtool, "--hotp", "--counter=42", "--base32", b32encode(key))
        assert from_hex == from_b32 == hotp(key, 42)
