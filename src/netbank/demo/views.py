"""The demo's mailbox: what the mail catcher received, readable in the browser.

Only for the local demo: anyone who can reach the demo server can read every
caught mail, so the pages exist only while ``NETBANK_DEMO_MAILBOX`` is set (by
``netbank demo``, never by the environment) and 404 otherwise.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from netbank.demo.mailcatcher import list_mail, read_mail


def _mailbox() -> Path:
    folder = getattr(settings, "NETBANK_DEMO_MAILBOX", "")
    if not folder:
        raise Http404
    return Path(folder)


@never_cache
@require_safe
def mail_list_view(request: HttpRequest) -> HttpResponse:
    folder = _mailbox()
    return render(request, "demo/mail_list.html", {"mails": list_mail(folder), "folder": folder})


@never_cache
@require_safe
def mail_detail_view(request: HttpRequest, name: str) -> HttpResponse:
    mail = read_mail(_mailbox(), name)
    if mail is None:
        raise Http404
    return render(request, "demo/mail_detail.html", {"mail": mail, "body": mail.text_body()})
