"""The request id on every request, in both middleware stacks (the site and ``/api/``).

The id is a trusted proxy's ``X-Request-ID`` when it is well-formed (``behind_proxies``
passes it on only from NETBANK_TRUSTED_PROXIES), else a new one. It is bound for log lines
and audit records while the request is served, kept on ``request.request_id`` for the
lines Django writes after the chain has returned, and sent back in ``X-Request-ID``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from netbank.ops import request_id
from netbank.web.client_address import FORWARDED_REQUEST_ID

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        rid = request_id.well_formed(request.META.get(FORWARDED_REQUEST_ID)) or request_id.new()
        request.request_id = rid  # type: ignore[attr-defined]
        token = request_id.bind(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        return response
