"""``netbank makemessages``: Django's command, also reading the project's ``_lazy`` alias.

Modules that need both ``gettext`` (as ``_``) and ``gettext_lazy`` import the lazy one as
``_lazy``; xgettext only extracts the keywords it is told about, so without this their
strings would silently stay Japanese on English pages.
"""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_lazy"]
