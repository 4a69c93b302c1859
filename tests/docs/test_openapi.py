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
from pytest_django.fixtures import Settings

from netbank.banking import api as banking_api
from netbank.banking.models import SigningChallenge
from netbank.banking.signing import signing_challenge
from netbank.oath import activation as proto
from netbank.otp import api, api_json
from netbank.otp.channels import channel_key_create
from netbank.otp.models import Token
from netbank.token_app.signing import pending_request
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


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` (only local references are allowed)."""
    seen = 0
    while "$ref" in node:
        ref = node["$ref"]
        assert isinstance(ref, str)
        assert ref.startswith("#/"), ref
        target: Any = SPEC
        for part in ref[2:].split("/"):
            assert isinstance(target, dict)
            assert part in target, f"{ref} does not resolve"
            target = target[part]
        assert isinstance(target, dict), ref
        node = target
        seen += 1
        assert seen < 10, f"{ref}: reference cycle"
    return node


def _walk(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{where}/{i}")


def _type_ok(value: Any, kind: str) -> bool:
    return {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
    }[kind]


def _format_ok(value: str, fmt: str) -> bool:
    if fmt == "date-time":
        try:
            return datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    if fmt == "uri":
        parts = urlsplit(value)
        return bool(parts.scheme and parts.netloc)
    return True  # "password" and the like only say how to treat the value


def _errors(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """What in ``value`` does not fit ``schema``: the JSON Schema keywords this document
    uses. An object may hold only the properties its schema documents."""
    schema = _resolve(schema)
    problems: list[str] = []
    if "type" in schema and not _type_ok(value, schema["type"]):
        return [f"{where}: {value!r} is not of type {schema['type']}"]
    if "const" in schema and (value != schema["const"] or type(value) is not type(schema["const"])):
        problems.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            problems.append(f"{where}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{where}: longer than {schema['maxLength']}")
        if "format" in schema and not _format_ok(value, schema["format"]):
            problems.append(f"{where}: {value!r} is not a {schema['format']}")
    if _type_ok(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{where}: {name!r} is missing")
        for name, item in value.items():
            if name in properties:
                problems += _errors(item, properties[name], f"{where}.{name}")
            elif "type" in schema:  # a full object schema, not a oneOf branch
                problems.append(f"{where}: {name!r} is not documented")
    if "oneOf" in schema:
        fitting = [s for s in schema["oneOf"] if not _errors(value, s, where)]
        if len(fitting) != 1:
            problems.append(f"{where}: fits {len(fitting)} of the oneOf branches, not 1")
    return problems


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in SPEC["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


# --- the document itself ------------------------------------------------------------------


def test_the_document_is_openapi_3_1_with_every_reference_resolving() -> None:
    assert SPEC["openapi"] == "3.1.0"
    assert SPEC["info"]["title"]
    assert SPEC["info"]["version"]
    refs = [node["$ref"] for _, node in _walk(SPEC) if isinstance(node, dict) and "$ref" in node]
    assert refs
    for ref in refs:
        _resolve({"$ref": ref})
    # Nothing documented that no operation uses.
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
        seen.add(_conforms(finish, "post", _call(finish, wrong)))
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
    customer, _ = customer_with_account(100_000)
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
