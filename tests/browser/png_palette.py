"""Shrink a browser screenshot for the README: 24-bit PNG in, 8-bit palette PNG out.

A page of Japanese text is mostly a few hundred colours (text, its anti-aliased
edges, the theme's greens), so a palette of the 256 most used colours keeps nearly
every pixel exact and the file about a third of the size. Pixels of any other colour
take the nearest palette colour (weighted RGB distance), which the eye does not see
at text edges. Pure Python (zlib and struct), so refreshing the README pictures needs
nothing beyond the test tools: no Pillow, no ImageMagick.

Only what Chromium writes is read: 8-bit RGB or RGBA (fully opaque), not interlaced.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
PALETTE_SIZE = 256


class PngError(ValueError):
    """Not a PNG this module reads."""


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    rows: list[bytes]  # RGB, 3 bytes a pixel


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(SIGNATURE):
        raise PngError("not a PNG file")
    chunks, pos = [], len(SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, prev: bytes, bpp: int) -> None:
    """Undo one row's PNG filter in place (RFC 2083, 6.3)."""
    if kind == 0:
        return
    if kind == 1:
        for i in range(bpp, len(line)):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif kind == 2:
        for i in range(len(line)):
            line[i] = (line[i] + prev[i]) & 0xFF
    elif kind == 3:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            corner = prev[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + _paeth(left, prev[i], corner)) & 0xFF
    else:
        raise PngError(f"unknown filter type {kind}")


def read_rgb(data: bytes) -> Image:
    chunks = _chunks(data)
    if not chunks or chunks[0][0] != b"IHDR":
        raise PngError("no IHDR chunk first")
    width, height, depth, colour, _comp, _filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise PngError("only 8-bit RGB or RGBA, not interlaced")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise PngError("image data has the wrong length")
    rows: list[bytes] = []
    prev = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(raw[start], line, prev, bpp)
        prev = bytes(line)
        if bpp == 4:
            if any(alpha != 0xFF for alpha in line[3::4]):
                raise PngError("transparent pixels: a palette without alpha would change them")
            del line[3::4]
        rows.append(bytes(line))
    return Image(width, height, rows)


def _nearest(colour: bytes, palette: list[bytes]) -> int:
    r, g, b = colour
    # Green weighs most, blue least: roughly how the eye ranks differences.
    return min(
        range(len(palette)),
        key=lambda i: (
            3 * (palette[i][0] - r) ** 2
            + 4 * (palette[i][1] - g) ** 2
            + 2 * (palette[i][2] - b) ** 2
        ),
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def to_palette_png(image: Image) -> bytes:
    pixels = Counter(row[i : i + 3] for row in image.rows for i in range(0, len(row), 3))
    palette = [colour for colour, _count in pixels.most_common(PALETTE_SIZE)]
    index = {colour: i for i, colour in enumerate(palette)}
    for colour in pixels:
        if colour not in index:
            index[colour] = _nearest(colour, palette)
    raw = bytearray()
    for row in image.rows:
        raw.append(0)  # filter None: palette indices do not predict from their neighbours
        raw.extend(index[row[i : i + 3]] for i in range(0, len(row), 3))
    header = struct.pack(">IIBBBBB", image.width, image.height, 8, 3, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"PLTE", b"".join(palette))
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )


def shrink(source: Path, target: Path) -> None:
    """Write ``source`` (a screenshot) to ``target`` as a palette PNG."""
    target.write_bytes(to_palette_png(read_rgb(source.read_bytes())))
