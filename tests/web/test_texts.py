"""Texts every screen shares: one required marker (the leaflet's 【必須】) everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import netbank

SRC = Path(netbank.__file__).resolve().parent
REQUIRED_INCLUDE = SRC / "web" / "templates" / "web" / "_required.html"


def _templates() -> list[Path]:
    return sorted(p for p in SRC.glob("*/templates/**/*.html") if p != REQUIRED_INCLUDE)


def test_the_required_marker_is_written_once_and_says_the_leaflets_words() -> None:
    assert "【必須】" in REQUIRED_INCLUDE.read_text(encoding="utf-8")
    offenders = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        # A marker of its own (span.required) or a bare 必須 outside a sentence.
        if 'class="required"' in text or re.search(r"translate '(【)?必須(】)?'", text):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []
