"""Headless Chromium (Debian's ``chromium``) for the browser tests: a screenshot, the DOM, the PNG's pixels.

One place for the command line and the PNG decoding the screenshot tests share. Pages are opened as
``file://`` with networking off; the PNG is decoded here with zlib, so no imaging library is needed.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Headless, offline, no first-run work; the Playwright test launches with the same arguments.
QUIET = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The chromium binary; fails the test (never skips) when it is not installed."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: run scripts/provision.sh (as root) first", pytrace=False)
    return found


def screenshot(page: Path, png: Path, width: int, height: int) -> tuple[int, int, list[bytes]]:
    """Screenshot ``page`` at ``width`` x ``height`` into ``png``; returns its size and RGB rows."""
    command = [
        chromium(),
        *QUIET,
        f"--user-data-dir={png.parent / 'profile'}",
        f"--screenshot={png}",
        f"--window-size={width},{height}",
        page.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert png.exists(), f"no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
    return png_rgb(png.read_bytes())


def dump_dom(page: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    """The DOM of ``page`` after its scripts ran (``--dump-dom``)."""
    command = [chromium(), *QUIET, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def png_rgb(data: bytes) -> tuple[int, int, list[bytes]]:
    """Rows of RGB bytes from an 8-bit truecolour PNG: chunks, inflate, then undo the row filters."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), f"unexpected PNG format depth {depth} colour {colour}"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows = zlib.decompress(idat), width * channels, []
    prior = bytearray(stride)
    for y in range(height):
        filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if filt == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif filt == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prior, strict=True))
        elif filt == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prior[i]) >> 1)) & 0xFF
        elif filt == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b, c = prior[i], prior[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(v for i, v in enumerate(line) if i % 4 != 3))
        prior = line
    return width, height, rows


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def colour_counts(rows: list[bytes], width: int, colours: list[str]) -> dict[str, int]:
    """How many sampled pixels (every 2nd row, every 2nd column) are each colour (within 6 per channel)."""
    counts = dict.fromkeys(colours, 0)
    targets = {colour: rgb(colour) for colour in colours}
    for row in rows[::2]:
        for x in range(0, width * 3, 6):
            pixel = (row[x], row[x + 1], row[x + 2])
            for colour, target in targets.items():
                if all(abs(pixel[i] - target[i]) <= 6 for i in range(3)):
                    counts[colour] += 1
    return counts
