"""netbank.oath.activation: the transcript, signatures, key derivation and MACs (pure)."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from netbank.oath import activation as proto


def _transcript(**changes: object) -> proto.Transcript:
    base = proto.Transcript(
        transcript_id=bytes(range(16)),
        service_id="100001",
        user_id="394817265043",
        app_public_key=bytes(range(32, 64)),
        server_public_key=bytes(range(64, 96)),
        algorithm="SHA1",
        digits=6,
        period=30,
        server_time=1_795_000_000,
        expires_at=1_795_086_400,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _agreed(
    algorithm: str = "SHA1",
) -> tuple[proto.DerivedKeys, proto.DerivedKeys, proto.Transcript]:
    app_private, app_public = proto.x25519_generate()
    bank_private, bank_public = proto.x25519_generate()
    transcript = _transcript(
        app_public_key=app_public, server_public_key=bank_public, algorithm=algorithm
    )
    app = proto.derive_keys(proto.x25519_shared_secret(app_private, bank_public), transcript)
    bank = proto.derive_keys(proto.x25519_shared_secret(bank_private, app_public), transcript)
    return app, bank, transcript


def test_transcript_round_trips_through_its_canonical_bytes() -> None:
    transcript = _transcript()
    assert proto.Transcript.decode(transcript.encode()) == transcript


@settings(deadline=None, max_examples=200)
@given(
    a=st.tuples(st.integers(0, 2**40), st.integers(0, 2**40), st.sampled_from(["SHA1", "SHA256"])),
    b=st.tuples(st.integers(0, 2**40), st.integers(0, 2**40), st.sampled_from(["SHA1", "SHA256"])),
)
def test_different_transcripts_never_share_an_encoding(
    a: tuple[int, int, str], b: tuple[int, int, str]
) -> None:
    ta = _transcript(server_time=a[0], expires_at=a[1], algorithm=a[2])
    tb = _transcript(server_time=b[0], expires_at=b[1], algorithm=b[2])
    assert (ta.encode() == tb.encode()) == (ta == tb)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b + b"\x00",  # trailing byte
        lambda b: b[:-1],  # truncated
        lambda b: b.replace(b"SHA1", b"SHA9"),  # unknown algorithm
        lambda b: b.replace(b"netbank-activation/1", b"netbank-activation/2"),
    ],
)
def test_decoding_refuses_anything_encode_would_not_produce(mutate: object) -> None:
    data = _transcript().encode()
    with pytest.raises(proto.ActivationError):
        proto.Transcript.decode(mutate(data))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("algorithm", "seed_bytes"), [("SHA1", 20), ("SHA256", 32), ("SHA512", 64)]
)
def test_both_sides_derive_the_same_keys_with_the_seed_sized_for_the_hash(
    algorithm: str, seed_bytes: int
) -> None:
    app, bank, _ = _agreed(algorithm)
    assert app == bank
    assert len(app.seed) == seed_bytes
    assert len(app.signing_key) == 32
    assert len(app.confirmation_key) == 32
    assert len({app.seed[:20], app.signing_key[:20], app.confirmation_key[:20]}) == 3
    assert app.token_secret() == app.seed + app.signing_key


def test_any_change_to_the_transcript_changes_every_derived_key() -> None:
    private, public = proto.x25519_generate()
    _, peer = proto.x25519_generate()
    shared = proto.x25519_shared_secret(private, peer)
    one = proto.derive_keys(shared, _transcript(app_public_key=public))
    other = proto.derive_keys(shared, _transcript(app_public_key=public, digits=8))
    assert one.seed != other.seed[: len(one.seed)]
    assert one.signing_key != other.signing_key
    assert one.confirmation_key != other.confirmation_key


def test_derived_keys_never_show_in_repr() -> None:
    app, _, _ = _agreed()
    assert app.seed.hex() not in repr(app)
    assert "secret" in repr(app)


def test_proof_depends_on_the_password_and_differs_from_the_bank_confirmation() -> None:
    app, _, transcript = _agreed()
    proof = proto.client_proof(app.confirmation_key, transcript, b"4821")
    assert proof != proto.client_proof(app.confirmation_key, transcript, b"4822")
    assert proof != proto.server_confirmation(app.confirmation_key, transcript, b"4821")
    assert len(proof) == proto.MAC_BYTES


def test_signature_verifies_only_for_the_signed_transcript_and_the_banks_key() -> None:
    bank = Ed25519PrivateKey.generate()
    transcript = _transcript()
    signature = proto.sign_transcript(bank, transcript)
    proto.verify_transcript_signature(bank.public_key(), transcript, signature)
    with pytest.raises(proto.SignatureError):
        proto.verify_transcript_signature(bank.public_key(), _transcript(digits=8), signature)
    with pytest.raises(proto.SignatureError):
        proto.verify_transcript_signature(
            Ed25519PrivateKey.generate().public_key(), transcript, signature
        )
    with pytest.raises(proto.SignatureError, match="not signed"):
        proto.verify_transcript_signature(bank.public_key(), transcript, None)


def test_any_of_several_trusted_keys_may_sign_during_a_key_rollover() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    transcript = _transcript()
    proto.verify_transcript_signature(
        [old.public_key(), new.public_key()], transcript, proto.sign_transcript(new, transcript)
    )


def test_json_answer_round_trips_and_keeps_its_signature() -> None:
    bank = Ed25519PrivateKey.generate()
    transcript = _transcript()
    signature = proto.sign_transcript(bank, transcript)
    parsed, parsed_signature = proto.Transcript.from_json(transcript.to_json(signature))
    assert parsed == transcript
    assert parsed_signature == signature


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("digits", True),  # a bool is not an integer here
        ("digits", "6"),
        ("digits", 9),
        ("period", 0),
        ("algorithm", "MD5"),
        ("user_id", "39481726504"),
        ("user_id", "３９４８１７２６５０４３"),
        ("service_id", ""),
        ("server_public_key", "AAAA"),
        ("transcript_id", "!!!"),
        ("protocol", "netbank-activation/0"),
    ],
)
def test_malformed_answers_are_refused(field: str, value: object) -> None:
    data = _transcript().to_json(bytes(64))
    data[field] = value
    with pytest.raises(proto.ActivationError):
        proto.Transcript.from_json(data)


def test_an_answer_without_signature_parses_as_unsigned() -> None:
    data = _transcript().to_json(bytes(64))
    del data["signature"]
    assert proto.Transcript.from_json(data)[1] is None


def test_small_order_public_keys_are_refused() -> None:
    private, _ = proto.x25519_generate()
    with pytest.raises(proto.ActivationError):
        proto.x25519_shared_secret(private, bytes(32))
    with pytest.raises(proto.ActivationError):
        proto.x25519_shared_secret(private, (1).to_bytes(32, "little"))


@pytest.mark.parametrize(
    "text",
    [
        "AAAAAAAAAAAAAAAAAAAAAA==",  # padding is not sent
        "AAAAAAAAAAAAAAAAAAAAAB",  # non-canonical last digit
        "AAAAAAAAAAAAAAAAAAAA",  # too short
        "AAAAAAAAAAAAAAAAAAAAA+",  # not the url-safe alphabet
        12,
    ],
)
def test_base64url_fields_are_decoded_strictly(text: object) -> None:
    with pytest.raises(proto.ActivationError):
        proto.b64url_decode(text, length=16, field="x")


def test_base64url_round_trip() -> None:
    data = bytes(range(16))
    assert proto.b64url_decode(proto.b64url_encode(data), length=16, field="x") == data


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("4821", b"4821"), ("４８２１", b"4821"), (" 12345678 ", b"12345678")],
)
def test_activation_password_accepts_half_and_full_width_digits(
    typed: str, expected: bytes
) -> None:
    assert proto.activation_password_bytes(typed) == expected


@pytest.mark.parametrize("typed", ["123", "123456789", "12a4", "", "①②③④", "١٢٣٤"])
def test_activation_password_must_be_four_to_eight_digits(typed: str) -> None:
    with pytest.raises(proto.ActivationError):
        proto.activation_password_bytes(typed)
