"""The WSGI application for the whole site (``netbank.config.wsgi_api`` is the variant
with a lean middleware stack for ``/api/``). Behind load balancers, ``REMOTE_ADDR`` is
taken from their ``X-Forwarded-For`` as ``netbank.web.client_address`` explains. It does not
start while the settings have a problem (``netbank.ops.checks``)."""

import os
from typing import Any

from django.core.wsgi import get_wsgi_application

from netbank.ops import health
from netbank.ops.checks import refuse_to_start_if_misconfigured
from netbank.web.client_address import from_environment

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netbank.config.settings")


def build() -> Any:
    django_app = get_wsgi_application()
    refuse_to_start_if_misconfigured()
    return health.wrap(from_environment(django_app))


application = build()
