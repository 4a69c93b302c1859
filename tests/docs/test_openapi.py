"""docs/openapi.yaml describes the JSON API that actually runs.

The file is parsed (duplicate keys refused), every reference resolves and every example
fits its schema. Its paths are the routed JSON paths, enumerated from the URL resolver;
its error codes are the codes the views can emit. Then every documented operation is
called for real until it has given every status it documents, and no other: each answer
must fit the documented schema (no undocumented field) and carry the documented headers.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, ValidationError, validators
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from pytest_django.fixtures import Settings
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from netbank import clock
from netbank.banking import api as banking_api
from netbank.banking.models import SigningChallenge
from netbank.banking.signing import signing_challenge
from netbank.oath import activation as proto
from netbank.otp.activation import api
from netbank.otp.channels.services import channel_key_create
from netbank.otp.models import Token
from netbank.token_app.signing import pending_request
from netbank.web import api_json
from tests.banking.factories import current_otp, customer_with_account, other_bank
from tests.banking.factories import issue_token as in_use_app_token
from tests.customers.factories import PASSWORD, make_customer
from tests.otp.factories import ACTIVATION_PASSWORD
from tests.otp.factories import issue_token as issued_token

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error
    (YAML forbids it; PyYAML would silently keep the last)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)

SPEC: dict[str, Any] = yaml.load(OPENAPI_PATH.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
BROWSER_PATH = "/login/direct/"
BROWSER_POST_PATH = "/login/direct/open/"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# --- reading the document -----------------------------------------------------------------

# The document as a JSON Schema 2020-12 resource (OpenAPI 3.1's dialect): "#/components/…"
# references resolve in it, by the validator's own resolver.
SPEC_URI = "urn:netbank:openapi"
REGISTRY: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(SPEC))
# date-time is checked (rfc3339-validator); a URI by its documented pattern.
FORMATS = Draft202012Validator.FORMAT_CHECKER


def _ecma_regex(pattern: str) -> str:
    """``pattern`` (ECMA-262, as JSON Schema says) for Python's ``re``: an unescaped ``$``
    outside a class is the end of the text, which is ``\\Z`` (Python's ``$`` also
    matches before a final newline, and jsonschema uses it as it is)."""
    out, escaped, in_class = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append("\\Z")
            continue
        out.append(char)
    return "".join(out)


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not re.search(_ecma_regex(pattern), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` of a response or header (only references into this document)."""
    resolver = REGISTRY.resolver(base_uri=SPEC_URI)
    seen = 0
    while "$ref" in node:
        ref = node["$ref"]
        assert isinstance(ref, str)
        assert ref.startswith("#/"), ref
        node = resolver.lookup(SPEC_URI + ref).contents
        assert isinstance(node, dict), ref
        seen += 1
        assert seen < 10, f"{ref}: reference cycle"
    return node


def _absolute(node: Any) -> Any:
    """``node`` with its references made absolute, so that it can be a validator's root."""
    if isinstance(node, dict):
        return {
            key: SPEC_URI + value if key == "$ref" and isinstance(value, str) else _absolute(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_absolute(value) for value in node]
    return node


def _walk(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{where}/{i}")


def _errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """What in ``value`` does not fit ``schema`` (a schema of this document), by jsonschema."""
    validator = Validator(_absolute(schema), registry=REGISTRY, format_checker=FORMATS)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(value)]


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in SPEC["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


# --- the document itself ------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1() -> None:
    """openapi-spec-validator: the structure, every schema against the 3.1 dialect and
    every reference resolving."""
    assert SPEC["openapi"] == "3.1.0"
    validate(SPEC, cls=OpenAPIV31SpecValidator)
    # …and it does refuse: a broken reference, a misspelt keyword in a schema.
    broken = json.loads(json.dumps(SPEC).replace("schemas/UserId", "schemas/UserID", 1))
    with pytest.raises((OpenAPIValidationError, Unresolvable)):
        validate(broken, cls=OpenAPIV31SpecValidator)
    wrong_type = json.loads(json.dumps(SPEC))
    wrong_type["components"]["schemas"]["UserId"]["type"] = "text"
    with pytest.raises(OpenAPIValidationError):
        validate(wrong_type, cls=OpenAPIV31SpecValidator)


def test_every_component_is_used() -> None:
    """Nothing documented that no operation uses."""
    refs = [node["$ref"] for _, node in _walk(SPEC) if isinstance(node, dict) and "$ref" in node]
    assert refs
    for section, entries in SPEC["components"].items():
        for name in entries:
            if section == "securitySchemes":
                used = any(
                    name in req for _, _, op in _operations() for req in op.get("security", [])
                )
            else:
                used = f"#/components/{section}/{name}" in refs
            assert used, f"components/{section}/{name} is never used"


def test_every_operation_is_complete() -> None:
    ids = [op["operationId"] for _, _, op in _operations()]
    assert len(ids) == len(set(ids))
    for path, method, op in _operations():
        assert path.startswith("/")
        assert op["summary"]
        assert op["responses"]
        for status, response in op["responses"].items():
            assert re.fullmatch(r"[1-5][0-9]{2}", status), (path, method, status)
            response = _resolve(response)
            assert response["description"]
            for header in response.get("headers", {}).values():
                assert "schema" in _resolve(header)
            for media, content in response.get("content", {}).items():
                assert media == "application/json"
                assert "schema" in content
        if "requestBody" in op:
            # JSON for the API; a browser endpoint takes the form a page posts.
            browser = path.startswith("/login/")
            media = "application/x-www-form-urlencoded" if browser else "application/json"
            assert set(op["requestBody"]["content"]) == {media}


def test_every_example_fits_its_schema() -> None:
    checked = 0
    for where, node in _walk(SPEC):
        if not (isinstance(node, dict) and "schema" in node):
            continue
        examples = [node["example"]] if "example" in node else []
        examples += [e["value"] for e in node.get("examples", {}).values()]
        for example in examples:
            assert _errors(example, node["schema"]) == [], where
            checked += 1
    assert checked >= 10


def test_the_schema_checker_used_here_does_refuse() -> None:
    """The checks below rely on _errors; it must see a wrong type, a missing or extra
    field, a wrong pattern and an ambiguous oneOf."""
    answer = {"$ref": "#/components/schemas/DirectLoginAnswer"}
    good = {
        "status": "ok",
        "post_url": "https://bank.example.jp/login/direct/open/",
        "ticket": "a" * 43,
        "url": "https://bank.example.jp/login/direct/?t=" + "a" * 43,
    }
    assert _errors({**good, "expires_in": 60}, answer) == []
    assert _errors({**good, "expires_in": "60"}, answer)
    assert _errors({**good, "expires_in": 61}, answer)
    assert _errors(good, answer)
    assert _errors({**good, "expires_in": 60, "extra": 1}, answer)
    assert _errors({**good, "url": "https://bank.example.jp/top/", "expires_in": 60}, answer)
    verify = {"$ref": "#/components/schemas/VerifyRequest"}
    assert _errors({"user_id": "123456789012", "otp": "123456"}, verify) == []
    assert _errors({"user_id": "123456789012", "login_id": "a", "otp": "123456"}, verify)
    assert _errors({"otp": "123456"}, verify)
    pending = {"$ref": "#/components/schemas/PendingAnswer"}
    assert _errors({"pending": True}, pending)
    assert _errors({"pending": False}, pending) == []
    # ECMA-262's $ (JSON Schema's) is the end of the text, not before a final newline.
    user_id = {"$ref": "#/components/schemas/UserId"}
    assert _errors("123456789012", user_id) == []
    assert _errors("123456789012\n", user_id)


# --- the document against the code --------------------------------------------------------


def _routes(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, Callable[..., HttpResponse]]]:
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + route)
        else:
            # <int:pk> in a route is {pk} in OpenAPI.
            yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", prefix + route), entry.callback


def _json_api_routes() -> dict[str, Callable[..., HttpResponse]]:
    """Every routed path with an ``api`` segment, except the catch-all that answers any
    unknown /api/ path with a JSON 404."""
    return {
        path: view
        for path, view in _routes(get_resolver().url_patterns)
        if "/api/" in path and view is not api.api_not_found_view
    }


def test_documented_paths_are_every_routed_json_api_path_and_the_direct_login_url() -> None:
    routed = set(_json_api_routes())
    assert {
        reverse("api:activation_start"),
        reverse("api:activation_finish"),
        reverse("api:direct_login"),
        reverse("api:verify"),
        reverse("banking:api_signing_pending"),
    } <= routed
    assert reverse("otp:direct_login_open") == BROWSER_PATH
    assert reverse("otp:direct_login_post") == BROWSER_POST_PATH
    assert set(SPEC["paths"]) == routed | {BROWSER_PATH, BROWSER_POST_PATH}


def test_json_endpoints_are_post_only_and_the_browser_endpoint_only_redirects() -> None:
    for path, method, op in _operations():
        if path == BROWSER_PATH:
            assert method in ("get", "head")
            assert set(op["responses"]) == {"303"}
        elif path == BROWSER_POST_PATH:
            assert method == "post"
            assert set(op["responses"]) == {"303", "405"}
        else:
            assert method == "post", path
            assert "requestBody" in op


def _emitted_codes() -> set[str]:
    """The error codes of the shared JSON layers, and every literal code the modules of
    the routed JSON views raise."""
    codes = set(api.ERROR_CODES) | set(api_json.MESSAGES)
    modules = {sys.modules[view.__module__] for view in _json_api_routes().values()}
    assert modules >= {api, banking_api}
    for module in modules:
        codes |= set(re.findall(r'ApiError\(\s*"(\w+)"', inspect.getsource(module)))
    return codes


def test_every_error_code_the_views_can_emit_is_documented_and_no_other() -> None:
    error = _resolve({"$ref": "#/components/schemas/Error"})
    documented = set(error["properties"]["error"]["properties"]["code"]["enum"])
    emitted = _emitted_codes()
    assert {"direct_login_failed", "unauthorized", "activation_failed", "not_found"} <= emitted
    assert documented == emitted


# --- real answers -------------------------------------------------------------------------

_ips = count(1)


def _ip() -> str:
    """A client address of its own, so per-address limits never mix between calls."""
    n = next(_ips)
    return f"198.18.{n // 250}.{n % 250 + 1}"


def _call(
    path: str,
    body: Any = None,
    *,
    method: str = "POST",
    ip: str | None = None,
    content_type: str = "application/json",
    **extra: Any,
) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    client = Client(REMOTE_ADDR=ip or _ip())
    if method == "POST":
        return client.generic("POST", path, raw, content_type=content_type, **extra)  # type: ignore[return-value]
    return client.generic(method, path, **extra)  # type: ignore[return-value]


def _conforms(path: str, method: str, response: HttpResponse) -> str:
    """Check ``response`` against the document; returns its status."""
    op = SPEC["paths"][path][method]
    status = str(response.status_code)
    assert status in op["responses"], (
        f"{method.upper()} {path} answered {status}, which is not documented: "
        f"{response.content[:300]!r}"
    )
    documented = _resolve(op["responses"][status])
    for name, header in documented.get("headers", {}).items():
        header = _resolve(header)
        if not response.has_header(name):
            assert not header.get("required"), f"{path} {status}: no {name} header"
            continue
        assert _errors(response[name], header["schema"]) == [], (path, status, name)
    content = documented.get("content")
    if content is None:
        assert response.content == b"", (path, status)
    else:
        assert response["Content-Type"] == "application/json"
        problems = _errors(json.loads(response.content), content["application/json"]["schema"])
        assert problems == [], (path, status, problems)
    return status


def _documented_statuses(path: str, method: str) -> set[str]:
    return set(SPEC["paths"][path][method]["responses"])


def _request_fits(path: str, body: dict[str, Any]) -> bool:
    schema = SPEC["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return not _errors(body, schema)


def _common_refusals(path: str, good: dict[str, Any], **extra: Any) -> list[HttpResponse]:
    """405, 415 and a 400 for an extra field (which the document's schema refuses too)."""
    bad = {**good, "unexpected": "x"}
    assert not _request_fits(path, bad)
    return [
        _call(path, method="GET", **extra),
        _call(path, b"service_id=1", content_type="application/x-www-form-urlencoded", **extra),
        _call(path, bad, **extra),
    ]


@pytest.mark.django_db
def test_activation_answers_as_documented(frozen_clock: datetime, settings: Settings) -> None:
    start, finish = reverse("api:activation_start"), reverse("api:activation_finish")
    token = issued_token()
    private, public = proto.x25519_generate()
    body = {
        "service_id": "100001",
        "user_id": token.user_id,
        "app_public_key": proto.b64url_encode(public),
    }
    assert _request_fits(start, body)
    answer = _call(start, body)
    seen = {_conforms(start, "post", answer)}
    assert set(json.loads(answer.content)) == set(
        _resolve({"$ref": "#/components/schemas/StartAnswer"})["properties"]
    )
    for response in _common_refusals(start, body):
        seen.add(_conforms(start, "post", response))
    misconfigured = issued_token(period=5)  # outside what the protocol can carry
    seen.add(_conforms(start, "post", _call(start, {**body, "user_id": misconfigured.user_id})))
    settings.NETBANK_THROTTLE = {**settings.NETBANK_THROTTLE, "activation_per_ip_per_minute": 1}
    ip = _ip()
    _call(start, body, ip=ip)
    seen.add(_conforms(start, "post", _call(start, body, ip=ip)))
    assert seen == _documented_statuses(start, "post")

    settings.NETBANK_THROTTLE = {**settings.NETBANK_THROTTLE, "activation_per_ip_per_minute": 100}
    transcript, _ = proto.Transcript.from_json(json.loads(answer.content))
    keys = proto.derive_keys(
        proto.x25519_shared_secret(private, transcript.server_public_key), transcript
    )
    transcript_id = proto.b64url_encode(transcript.transcript_id)
    wrong = {"transcript_id": transcript_id, "proof": proto.b64url_encode(bytes(32))}
    seen = {_conforms(finish, "post", _call(finish, wrong))}
    with override_settings(NETBANK_OTP_KEYS="other:" + "A" * 43 + "="):
        # The bank can no longer open what it sealed at round one: its own fault, a 500.
        # (Another wrong proof: an identical resend is refused before anything is opened.)
        other = {**wrong, "proof": proto.b64url_encode(bytes([1]) * 32)}
        seen.add(_conforms(finish, "post", _call(finish, other)))
    proof = proto.client_proof(keys.confirmation_key, transcript, ACTIVATION_PASSWORD.encode())
    good = {"transcript_id": transcript_id, "proof": proto.b64url_encode(proof)}
    assert _request_fits(finish, good)
    answer = _call(finish, good)
    seen.add(_conforms(finish, "post", answer))
    assert set(json.loads(answer.content)) == set(
        _resolve({"$ref": "#/components/schemas/FinishAnswer"})["properties"]
    )
    for response in _common_refusals(finish, good):
        seen.add(_conforms(finish, "post", response))
    settings.NETBANK_THROTTLE = {**settings.NETBANK_THROTTLE, "activation_per_ip_per_minute": 1}
    ip = _ip()
    _call(finish, good, ip=ip)
    seen.add(_conforms(finish, "post", _call(finish, good, ip=ip)))
    assert seen == _documented_statuses(finish, "post")


@pytest.mark.django_db
def test_direct_login_and_its_url_answer_as_documented(
    frozen_clock: datetime, settings: Settings
) -> None:
    path = reverse("api:direct_login")
    customer = make_customer()
    token, _ = in_use_app_token(customer)
    body = {
        "service_id": str(settings.NETBANK_OTP["service_id"]),
        "user_id": token.user_id,
        "login_id": customer.login_id,
        "password": PASSWORD,
        "otp": current_otp(token),
    }
    assert _request_fits(path, body)
    answer = _call(path, body)
    seen = {_conforms(path, "post", answer)}
    data = json.loads(answer.content)
    assert set(data) == set(
        _resolve({"$ref": "#/components/schemas/DirectLoginAnswer"})["properties"]
    )
    for response in _common_refusals(path, body):
        seen.add(_conforms(path, "post", response))
    seen.add(_conforms(path, "post", _call(path, {**body, "password": "Wrong-pass-1"})))
    settings.NETBANK_THROTTLE = {**settings.NETBANK_THROTTLE, "login_per_ip_per_minute": 1}
    ip = _ip()
    _call(path, {**body, "password": "Wrong-pass-1"}, ip=ip)
    throttled = _call(path, body, ip=ip)
    seen.add(_conforms(path, "post", throttled))
    assert throttled["Retry-After"] == "60"
    assert seen == _documented_statuses(path, "post")

    # The URL: HEAD leaves it usable; the first GET logs in; any later GET is refused.
    url = urlsplit(data["url"])
    assert url.path == BROWSER_PATH
    target = f"{url.path}?{url.query}"
    browser = Client(REMOTE_ADDR=_ip())
    head = browser.head(target)
    assert _conforms(BROWSER_PATH, "head", head) == "303"  # type: ignore[arg-type]
    assert head["Location"] == "/login/direct/invalid/"
    opened = browser.get(target)
    assert _conforms(BROWSER_PATH, "get", opened) == "303"  # type: ignore[arg-type]
    assert opened["Location"] == reverse("customers:top")
    again = Client(REMOTE_ADDR=_ip()).get(target)
    assert _conforms(BROWSER_PATH, "get", again) == "303"  # type: ignore[arg-type]
    assert again["Location"] == "/login/direct/invalid/"
    for junk in ("", "?t=", "?t=" + "x" * 500, "?t=%00"):
        response = Client().get(BROWSER_PATH + junk)
        assert _conforms(BROWSER_PATH, "get", response) == "303"  # type: ignore[arg-type]


@pytest.mark.django_db
def test_direct_login_post_hand_off_answers_as_documented(
    frozen_clock: datetime, settings: Settings
) -> None:
    path = reverse("api:direct_login")
    post_path = BROWSER_POST_PATH
    customer = make_customer()
    token, _ = in_use_app_token(customer)
    body = {
        "service_id": str(settings.NETBANK_OTP["service_id"]),
        "user_id": token.user_id,
        "login_id": customer.login_id,
        "password": PASSWORD,
        "otp": current_otp(token),
    }
    data = json.loads(_call(path, body).content)
    assert urlsplit(data["post_url"]).path == post_path
    form_schema = SPEC["paths"][post_path]["post"]["requestBody"]["content"][
        "application/x-www-form-urlencoded"
    ]["schema"]
    assert _errors({"t": data["ticket"]}, form_schema) == []
    seen = set()
    for method in ("get", "put"):
        wrong = Client().generic(method.upper(), post_path)
        seen.add(_conforms(post_path, "post", wrong))  # type: ignore[arg-type]
    browser = Client(REMOTE_ADDR=_ip())
    opened = browser.post(post_path, {"t": data["ticket"]}, HTTP_ORIGIN="null")
    seen.add(_conforms(post_path, "post", opened))  # type: ignore[arg-type]
    assert opened["Location"] == reverse("customers:top")
    again = Client().post(post_path, {"t": data["ticket"]})
    assert _conforms(post_path, "post", again) == "303"  # type: ignore[arg-type]
    assert again["Location"] == "/login/direct/invalid/"
    assert seen == _documented_statuses(post_path, "post")


@pytest.mark.django_db
def test_channel_verification_answers_as_documented(
    frozen_clock: datetime, settings: Settings
) -> None:
    path = reverse("api:verify")
    assert SPEC["paths"][path]["post"]["security"] == [{"channelKey": []}]
    scheme = SPEC["components"]["securitySchemes"]["channelKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    key = channel_key_create(name="telephone").key
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    customer = make_customer()
    token, _ = in_use_app_token(customer)
    results = set()
    for body in (
        {"user_id": token.user_id, "otp": current_otp(token)},
        {"login_id": customer.login_id, "otp": "000000"},
        {"user_id": "123456789012", "otp": "12345678"},
    ):
        assert _request_fits(path, body)
        answer = _call(path, body, **auth)
        assert _conforms(path, "post", answer) == "200"
        results.add(json.loads(answer.content)["result"])
    assert results == {"accepted", "rejected"}
    seen = {"200"}
    for response in _common_refusals(path, {"user_id": token.user_id, "otp": "000000"}, **auth):
        seen.add(_conforms(path, "post", response))
    both = {"user_id": token.user_id, "login_id": customer.login_id, "otp": "000000"}
    assert not _request_fits(path, both)
    assert _conforms(path, "post", _call(path, both, **auth)) == "400"
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer nbk_" + "A" * 43},
        {"HTTP_AUTHORIZATION": key},
    ):
        seen.add(_conforms(path, "post", _call(path, {"otp": "000000"}, **headers)))
    settings.NETBANK_THROTTLE = {**settings.NETBANK_THROTTLE, "verify_per_channel_per_minute": 1}
    seen.add(
        _conforms(path, "post", _call(path, {"user_id": token.user_id, "otp": "000000"}, **auth))
    )
    assert seen == _documented_statuses(path, "post")


@pytest.mark.django_db
def test_the_signing_fetch_answers_as_documented(frozen_clock: datetime) -> None:
    path = reverse("banking:api_signing_pending")
    customer, src = customer_with_account(100_000)
    token, signing_key = in_use_app_token(customer)
    assert token.kind == Token.Kind.APP

    def body() -> dict[str, str]:
        return pending_request(
            signing_key,
            service_id=str(django_settings.NETBANK_OTP["service_id"]),
            user_id=token.user_id,
            time=int(frozen_clock.timestamp()),
        )

    assert _request_fits(path, body())
    seen = {_conforms(path, "post", _call(path, body()))}
    assert json.loads(_call(path, body()).content) == {"pending": False}
    signing_challenge(
        customer=customer,
        purpose=SigningChallenge.Purpose.TRANSFER,
        destination=other_bank(),
        amount=4_321,
        debit_account=src,
    )
    answer = _call(path, body())
    seen.add(_conforms(path, "post", answer))
    data = json.loads(answer.content)
    assert data["pending"] is True
    assert set(data) == set(_resolve({"$ref": "#/components/schemas/PendingAnswer"})["properties"])
    for response in _common_refusals(path, body()):
        seen.add(_conforms(path, "post", response))
    seen.add(_conforms(path, "post", _call(path, {**body(), "mac": "A" * 43})))
    ip = _ip()
    for _ in range(banking_api.THROTTLE_PER_MINUTE):
        _call(path, body(), ip=ip)
    seen.add(_conforms(path, "post", _call(path, body(), ip=ip)))
    assert seen == _documented_statuses(path, "post")


@pytest.mark.django_db
def test_an_unknown_api_path_is_the_documented_json_404() -> None:
    response = _call("/api/v2/nothing-here", {})
    assert response.status_code == 404
    assert _errors(json.loads(response.content), {"$ref": "#/components/schemas/Error"}) == []
    assert json.loads(response.content)["error"]["code"] == "not_found"
    assert (
        _errors(
            response["Cache-Control"], _resolve({"$ref": "#/components/headers/NoStore"})["schema"]
        )
        == []
    )
    assert "404" in SPEC["info"]["description"]


# --- the schema's formats against the server ------------------------------------------------


def test_no_schema_keyword_is_left_without_a_value() -> None:
    """A YAML flow mapping with a comma in a plain value (``{description: a, b}``) makes a
    stray key with no value, which JSON Schema ignores silently."""
    nulls = [where for where, node in _walk(SPEC) if node is None]
    assert nulls == []


def _pattern_strategy(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    """Strings from the pattern of ``schema`` (following its references), kept only when
    the whole schema accepts them (lengths, enums, ``not``)."""
    node, patterns = schema, []
    while True:
        if "pattern" in node:
            patterns.append(node["pattern"])
        if "$ref" not in node:
            break
        node = _resolve({"$ref": node["$ref"]})
    assert len(patterns) == 1, (schema, patterns)
    # ^…$ as fullmatch: Python's $ would also allow a final newline, JSON Schema's does not.
    regex = patterns[0].removeprefix("^").removesuffix("$")
    return st.from_regex(regex, fullmatch=True).filter(lambda value: not _errors(value, schema))


def _request_schema(path: str) -> dict[str, Any]:
    schema = SPEC["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return _resolve(schema)


@dataclass
class _Good:
    """A request to ``path`` that the server takes, and the statuses a well-formed
    variation of one of its fields may get (never a 400)."""

    body: dict[str, str]
    statuses: set[str]
    headers: dict[str, str] = field(default_factory=dict)


def _good_requests(settings: Settings) -> dict[str, _Good]:
    issued = issued_token()
    customer = make_customer()
    token, signing_key = in_use_app_token(customer)
    service_id = str(settings.NETBANK_OTP["service_id"])
    _, public = proto.x25519_generate()
    key = channel_key_create(name="telephone").key
    return {
        reverse("api:activation_start"): _Good(
            {
                "service_id": service_id,
                "user_id": issued.user_id,
                "app_public_key": proto.b64url_encode(public),
            },
            {"200"},  # whatever the IDs: the decoy answer is a 200 too
        ),
        reverse("api:activation_finish"): _Good(
            {"transcript_id": "A" * 22, "proof": "A" * 43},
            {"403"},  # an unknown transcript: refused, not malformed
        ),
        reverse("api:direct_login"): _Good(
            {
                "service_id": service_id,
                "user_id": token.user_id,
                "login_id": customer.login_id,
                "password": PASSWORD,
                "otp": "000000",
            },
            {"403", "200"},  # 200 only should a drawn OTP be the right one
        ),
        reverse("api:verify"): _Good(
            {"user_id": token.user_id, "otp": "000000"},
            {"200"},
            {"HTTP_AUTHORIZATION": f"Bearer {key}"},
        ),
        reverse("banking:api_signing_pending"): _Good(
            pending_request(
                signing_key,
                service_id=service_id,
                user_id=token.user_id,
                time=int(clock.now().timestamp()),
            ),
            {"200", "401"},
        ),
    }


JSON_PATHS = sorted(
    path
    for path, item in SPEC["paths"].items()
    if "application/json" in item.get("post", {}).get("requestBody", {}).get("content", {})
)


@pytest.fixture
def good_requests(frozen_clock: datetime, settings: Settings) -> dict[str, _Good]:
    return _good_requests(settings)


@pytest.mark.django_db
@pytest.mark.parametrize("path", JSON_PATHS)
@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_value_the_schema_allows_has_a_format_the_server_takes(
    path: str, data: st.DataObject, good_requests: dict[str, _Good]
) -> None:
    """Each field in turn gets a value drawn from its pattern: the answer may refuse the
    value (unknown, wrong) but never its form, and fits the document. (The fixture is
    set up once for all the examples of a path.)"""
    good = good_requests[path]
    schema = _request_schema(path)
    assert _request_fits(path, good.body)
    for name, field_schema in schema["properties"].items():
        if name not in good.body:
            continue  # VerifyRequest names the customer by user_id (login_id: below)
        value = data.draw(_pattern_strategy(field_schema), label=name)
        body = {**good.body, name: value}
        assert _request_fits(path, body)
        response = _call(path, body, **good.headers)
        status = _conforms(path, "post", response)
        assert status in good.statuses, (name, value, response.content[:300])
    if path == reverse("api:verify"):
        login_id = data.draw(_pattern_strategy(schema["properties"]["login_id"]))
        body = {"login_id": login_id, "otp": "000000"}
        assert _request_fits(path, body)
        assert _conforms(path, "post", _call(path, body, **good.headers)) == "200"


@pytest.mark.django_db
def test_the_app_keys_the_schema_excludes_are_the_ones_the_server_refuses() -> None:
    """X25519AppKey's ``not`` lists the small-order encodings; each one is refused."""
    start = reverse("api:activation_start")
    excluded = SPEC["components"]["schemas"]["X25519AppKey"]["not"]["enum"]
    assert len(excluded) == len(set(excluded)) == 14
    for key in excluded:
        assert not _errors(key, {"$ref": "#/components/schemas/B64Key32"})
        body = {"service_id": "100001", "user_id": "123456789012", "app_public_key": key}
        assert not _request_fits(start, body)
        response = _call(start, body)
        assert _conforms(start, "post", response) == "400"
        assert json.loads(response.content)["error"]["field"] == "app_public_key"


@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        # Each was allowed by the document and refused by the server.
        ("/api/v1/activation/start", "app_public_key", "A" * 42 + "B"),  # stray bits
        ("/api/v1/activation/finish", "transcript_id", "A" * 21 + "B"),
        ("/api/v1/direct-login", "password", "pass word"),
        ("/api/v1/direct-login", "password", "パスワード1"),
        ("/api/v1/direct-login", "login_id", "yamada01\n"),
        ("/api/v1/direct-login", "login_id", "abc"),
    ],
)
@pytest.mark.django_db
def test_values_the_server_refuses_in_form_are_outside_the_schema(
    path: str, name: str, value: str, frozen_clock: datetime, settings: Settings
) -> None:
    good = _good_requests(settings)[path]
    body = {**good.body, name: value}
    response = _call(path, body, **good.headers)
    assert not _request_fits(path, body)
    assert _conforms(path, "post", response) == "400"
    assert json.loads(response.content)["error"]["field"] == name


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(SPEC["paths"]))
def test_every_undocumented_method_is_a_405_naming_the_documented_ones(path: str) -> None:
    documented = {method for method in METHODS if method in SPEC["paths"][path]}
    for method in sorted(set(METHODS) - documented):
        response = Client(REMOTE_ADDR=_ip(), enforce_csrf_checks=True).generic(method.upper(), path)
        assert response.status_code == 405, (path, method, response.status_code)
        allowed = {m.strip().lower() for m in response["Allow"].split(",")}
        assert allowed == documented, (path, method)
        assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_an_all_zero_transcript_id_is_refused_as_unknown_not_as_malformed() -> None:
    finish = reverse("api:activation_finish")
    body = {"transcript_id": proto.b64url_encode(bytes(16)), "proof": "A" * 43}
    assert body["transcript_id"] == "A" * 22
    assert _request_fits(finish, body)
    response = _call(finish, body)
    assert _conforms(finish, "post", response) == "403"
    assert json.loads(response.content)["error"]["code"] == "activation_failed"
