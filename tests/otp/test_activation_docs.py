"""docs/protocols.md describes the activation API that actually runs.

docs/openapi.yaml, for every JSON endpoint, is held to the running code by
tests/docs/test_openapi.py (paths from the URL resolver, error codes, statuses, headers
and the fields of real answers)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from netbank.oath import activation as proto
from netbank.otp.activation import api
from netbank.web import api_json
from tests.otp.factories import issue_token

DOCS = Path(__file__).resolve().parents[2] / "docs"
PROTOCOLS = (DOCS / "protocols.md").read_text(encoding="utf-8")


def test_every_activation_error_code_is_in_the_table_with_its_status() -> None:
    assert set(api_json.MESSAGES) >= api.ERROR_CODES
    for code in api.ERROR_CODES:
        status = api_json.MESSAGES[code][0]
        assert f"| {status} | `{code}`" in PROTOCOLS


@pytest.mark.django_db
def test_every_field_of_a_real_answer_is_documented(frozen_clock: datetime) -> None:
    token = issue_token()
    _, public = proto.x25519_generate()
    answer = (
        Client()
        .post(
            reverse("api:activation_start"),
            {
                "service_id": "100001",
                "user_id": token.user_id,
                "app_public_key": proto.b64url_encode(public),
            },
            content_type="application/json",
        )
        .json()
    )
    for field in answer:
        assert f'"{field}"' in PROTOCOLS
    for field in proto.FIELD_NAMES:
        assert f'LP("{field}")' in PROTOCOLS
