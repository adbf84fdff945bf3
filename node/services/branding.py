"""The node's colours and logo, checked: WCAG contrast and image content sniffing.

Pure functions (no session): the territory service and its input schema use them.
"""

from __future__ import annotations

import re
import struct

#: The largest logo accepted, in bytes (a header logo needs far less).
MAX_LOGO_BYTES = 512 * 1024
#: The largest logo side, in pixels (what a header could ever show, many times over).
MAX_LOGO_SIDE = 4096
#: Text on the primary colour is white: WCAG AA for normal text.
PRIMARY_CONTRAST = 4.5
#: The accent colour marks things on the header's light background (``--wash`` of
#: ``maillon.css``): WCAG 1.4.11 non-text contrast.
ACCENT_CONTRAST = 3.0
WHITE = "#ffffff"
HEADER_BACKGROUND = "#f3f5f7"

PNG, JPEG, WEBP = "image/png", "image/jpeg", "image/webp"
LOGO_TYPES = (PNG, JPEG, WEBP)

_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")

# Messages are fixed strings (no values inside) so that the web forms translate them.
COLOUR_FORM = "a colour is written #rrggbb, for example #0b5cad"
PRIMARY_TOO_LIGHT = (
    "too light for white text: choose a darker colour (contrast with white at least 4.5:1)"
)
ACCENT_TOO_LIGHT = (
    "too light to stand out on the page header: choose a darker colour (contrast at least 3:1)"
)
LOGO_EMPTY = "the file is empty"
LOGO_TOO_LARGE = "the logo is larger than 512 KiB"
LOGO_SVG = "SVG images are not accepted (they can carry scripts): use PNG, JPEG or WebP"
LOGO_NOT_IMAGE = "not a PNG, JPEG or WebP image"
LOGO_TOO_WIDE = "the image is larger than 4096 pixels on a side"


def normalise_colour(value: str) -> str:
    """``#ABC``, ``abc`` or ``#aabbcc`` as ``#aabbcc``; ``ValueError`` otherwise."""
    found = _HEX.fullmatch(value.strip())
    if found is None:
        raise ValueError(COLOUR_FORM)
    digits = found.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def primary_colour(value: str) -> str:
    colour = normalise_colour(value)
    if contrast(colour, WHITE) < PRIMARY_CONTRAST:
        raise ValueError(PRIMARY_TOO_LIGHT)
    return colour


def accent_colour(value: str) -> str:
    colour = normalise_colour(value)
    if contrast(colour, HEADER_BACKGROUND) < ACCENT_CONTRAST:
        raise ValueError(ACCENT_TOO_LIGHT)
    return colour


class LogoRefused(ValueError):
    """The bytes are not a logo this node takes; ``too_large`` tells a 413 from a 422."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large


def sniff_logo(data: bytes) -> str:
    """The media type of a logo, read from its content (never from a name or a header).

    PNG, JPEG and WebP are taken when their structure says so and their size is sane.
    SVG is refused outright: it is a document that may carry scripts and external
    references, and sanitising it well is a project of its own.
    """
    if not data:
        raise LogoRefused(LOGO_EMPTY)
    if len(data) > MAX_LOGO_BYTES:
        raise LogoRefused(LOGO_TOO_LARGE, too_large=True)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        media_type, size = PNG, _png_size(data)
    elif data.startswith(b"\xff\xd8\xff"):
        media_type, size = JPEG, _jpeg_size(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        media_type, size = WEBP, _webp_size(data)
    elif _looks_like_svg(data):
        raise LogoRefused(LOGO_SVG)
    else:
        raise LogoRefused(LOGO_NOT_IMAGE)
    if size is None or min(size) < 1:
        raise LogoRefused(LOGO_NOT_IMAGE)
    if max(size) > MAX_LOGO_SIDE:
        raise LogoRefused(LOGO_TOO_WIDE)
    return media_type


def _png_size(data: bytes) -> tuple[int, int] | None:
    # signature, then the IHDR chunk: length 13, type, width, height
    if len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The frame size from the first start-of-frame segment."""
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if length < 2:
            return None
        if marker in _SOF:
            if at + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header seen
            return None
        at += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg", b"<!--")) and b"<svg" in (
        data[:65536].lower()
    )
