"""Driving the Textual app in tests, and keeping its screens as SVG pictures.

Every run writes the screens to test-artifacts/screenshots/ (not committed); with
NETBANK_UPDATE_DOCS_IMG=1 they replace the pictures in docs/img/ that docs/token-app.md
shows, as for the README's browser screenshots.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widgets import Input

from netbank.token_app.tui import TokenApp

SIZE = (90, 32)

Scenario = Callable[[Pilot[int]], Awaitable[None]]


def drive(app: TokenApp, scenario: Scenario, *, size: tuple[int, int] = SIZE) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(pilot)

    asyncio.run(main())


async def settle(pilot: Pilot[int]) -> None:
    """Let workers (bank round trips, key derivation) finish and the screen redraw."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def type_into(pilot: Pilot[int], selector: str, text: str, *, keys: bool = False) -> None:
    """Fill a field: key by key through the real key handling when ``keys`` (slow), else
    by setting its value."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    if keys:
        await pilot.pause()
        await pilot.press(*text)
    else:
        field.value = text
        await pilot.pause()


async def press_button(pilot: Pilot[int], selector: str) -> None:
    widget = pilot.app.screen.query_one(selector)
    widget.scroll_visible(animate=False)
    await pilot.pause()
    await pilot.click(selector)
    await settle(pilot)


def screen_text(pilot: Pilot[int]) -> str:
    """Everything the current screen shows, as plain text (for asserting words)."""
    from textual.widgets import Button, Label, Static

    parts: list[str] = []
    for widget in pilot.app.screen.query("*"):
        if not widget.display:
            continue
        if isinstance(widget, Button):
            parts.append(str(widget.label))
        elif isinstance(widget, Label | Static):
            parts.append(str(widget.render()))
    return "\n".join(parts)


_TEXT = re.compile(r'(<text [^>]*?textLength=")([0-9.]+)("[^>]*>)([^<]*)(</text>)')


def _fix_wide_characters(svg: str) -> str:
    """Rich sizes each SVG text run by its character count; Japanese characters take two
    terminal cells, so the run would be squeezed into half its width. Size it by cells."""

    def widen(match: re.Match[str]) -> str:
        text = html.unescape(match.group(4))
        if not text or cell_len(text) == len(text):
            return match.group(0)
        width = float(match.group(2)) / len(text) * cell_len(text)
        return f"{match.group(1)}{width:g}{match.group(3)}{match.group(4)}{match.group(5)}"

    return _TEXT.sub(widen, svg)


REPO = Path(__file__).resolve().parents[2]


def save_screen(pilot: Pilot[int], name: str, fallback: Path | None = None) -> Path:
    if os.environ.get("NETBANK_UPDATE_DOCS_IMG") == "1":
        folder = REPO / "docs" / "img"
    else:
        folder = REPO / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"token-app-{name}.svg"
    svg = pilot.app.export_screenshot(title="netbank-token")
    path.write_text(_fix_wide_characters(svg), encoding="utf-8")
    return path
