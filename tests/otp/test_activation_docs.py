"""docs/openapi.yaml and docs/protocols.md describe the API that actually runs."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from netbank.oath import activation as proto
from netbank.otp import api
from tests.otp.factories import issue_token

DOCS = Path(__file__).resolve().parents[2] / "docs"
OPENAPI = (DOCS / "openapi.yaml").read_text(encoding="utf-8")
PROTOCOLS = (DOCS / "protocols.md").read_text(encoding="utf-8")


def test_documented_paths_are_the_routed_ones() -> None:
    documented = set(re.findall(r"^  (/api/\S+):$", OPENAPI, flags=re.MULTILINE))
    assert documented == {
        reverse("api:activation_start"),
        reverse("api:activation_finish"),
    }


def test_every_error_code_and_status_is_documented() -> None:
    enum = OPENAPI.split("code:\n              type: string\n              enum:\n", 1)[1]
    documented = set(re.findall(r"^                - (\w+)$", enum, flags=re.MULTILINE))
    assert documented == set(api.MESSAGES)
    for code, status in api.STATUS.items():
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
        assert f"        {field}:" in OPENAPI
        assert f'"{field}"' in PROTOCOLS
    for field in proto.FIELD_NAMES:
        assert f'LP("{field}")' in PROTOCOLS
