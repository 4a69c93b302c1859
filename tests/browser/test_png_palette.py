"""The README pictures' palette conversion keeps the picture (no browser needed)."""

from __future__ import annotations

import struct
import zlib
from collections import Counter

import pytest

from tests.browser import support
from tests.browser.png_palette import PngError, _chunk, _chunks, read_rgb, to_palette_png

SAMPLE = support.DOCS_IMG / "login-pc.png"  # a Chromium screenshot: rows use filters 1 to 4


def _read_palette_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """An independent reader for what to_palette_png writes: RGB rows back."""
    chunks = dict(_chunks(data))
    width, height, depth, colour, _c, _f, _i = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 3)
    palette = chunks[b"PLTE"]
    raw = zlib.decompress(chunks[b"IDAT"])
    rows = []
    for y in range(height):
        start = y * (width + 1)
        assert raw[start] == 0
        indices = raw[start + 1 : start + 1 + width]
        rows.append(b"".join(palette[3 * i : 3 * i + 3] for i in indices))
    return width, height, rows


def _rgb_png(width: int, rows: list[bytes]) -> bytes:
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def test_a_few_colours_survive_exactly() -> None:
    rows = [b"".join(bytes([x * 40 % 256, y * 60 % 256, 7]) for x in range(5)) for y in range(4)]
    image = read_rgb(_rgb_png(5, rows))

    width, height, back = _read_palette_png(to_palette_png(image))

    assert (width, height) == (5, 4)
    assert back == rows


@pytest.mark.skipif(not SAMPLE.exists(), reason="no committed screenshot to read")
def test_a_chromium_screenshot_keeps_its_pixels_and_shrinks() -> None:
    data = SAMPLE.read_bytes()
    image = read_rgb(data)
    colours = Counter(row[i : i + 3] for row in image.rows for i in range(0, len(row), 3))
    kept = {colour for colour, _n in colours.most_common(256)}

    small = to_palette_png(image)
    width, height, back = _read_palette_png(small)

    assert (width, height) == (image.width, image.height)
    same = total = 0
    for original, converted in zip(image.rows, back, strict=True):
        for i in range(0, len(original), 3):
            total += 1
            if original[i : i + 3] == converted[i : i + 3]:
                same += 1
            else:
                assert original[i : i + 3] not in kept  # palette colours are never changed
    assert same / total > 0.97
    assert len(small) < len(data)


def test_what_it_cannot_read_is_refused() -> None:
    with pytest.raises(PngError):
        read_rgb(b"GIF89a")
    grey = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    with pytest.raises(PngError):
        read_rgb(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", grey) + _chunk(b"IEND", b""))
