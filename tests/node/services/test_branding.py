"""The colour rules (WCAG contrast) and the logo's content sniffing."""

from __future__ import annotations

import pytest

from node.services import branding
from node.services.branding import LogoRefused, contrast, sniff_logo
from tests.images import SVG, jpeg, png, webp


def test_contrast_ratios_are_wcag_ones() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic miss
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the classic pass


def test_colours_are_normalised_and_checked() -> None:
    assert branding.primary_colour(" #0B5CAD ") == "#0b5cad"
    assert branding.primary_colour("036") == "#003366"
    assert branding.accent_colour("#a4161a") == "#a4161a"
    for bad in ("blue", "#12345", "#gggggg", "rgb(0,0,0)", ""):
        with pytest.raises(ValueError, match="#rrggbb"):
            branding.primary_colour(bad)
    with pytest.raises(ValueError, match=r"4\.5:1"):
        branding.primary_colour("#777777")
    with pytest.raises(ValueError, match="3:1"):
        branding.accent_colour("#ffcc00")


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(png(), "image/png"), (jpeg(), "image/jpeg"), (webp(), "image/webp")],
)
def test_images_are_known_by_their_content(data: bytes, media_type: str) -> None:
    assert sniff_logo(data) == media_type


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", branding.LOGO_EMPTY),
        (SVG, branding.LOGO_SVG),
        (b"\n  <svg xmlns='http://www.w3.org/2000/svg'/>", branding.LOGO_SVG),
        (b"GIF89a\x01\x00\x01\x00", branding.LOGO_NOT_IMAGE),
        (b"<html><script>alert(1)</script></html>", branding.LOGO_NOT_IMAGE),
        (png()[:20], branding.LOGO_NOT_IMAGE),  # a PNG signature on a truncated file
        (b"\xff\xd8\xff\xd9", branding.LOGO_NOT_IMAGE),  # a JPEG without a frame
        (png(5000, 10), branding.LOGO_TOO_WIDE),
        (png(0, 10), branding.LOGO_NOT_IMAGE),
    ],
)
def test_what_is_not_a_logo_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(LogoRefused) as refused:
        sniff_logo(data)
    assert refused.value.message == message and not refused.value.too_large


def test_a_large_file_is_refused_whatever_it_holds() -> None:
    data = png() + b"\x00" * branding.MAX_LOGO_BYTES
    with pytest.raises(LogoRefused) as refused:
        sniff_logo(data)
    assert refused.value.too_large
