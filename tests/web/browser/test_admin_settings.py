"""In a real browser: an admin renames the node, sets its colour and logo, and every
page shows them; the settings form passes axe-core and shows its errors in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.images import png
from tests.web.browser.conftest import Node, axe_violations
from tests.web.browser.test_admin_and_remote import sign_in_as_admin


def save(page: Any) -> None:
    page.get_by_role("button", name="Enregistrer les réglages").click()


def test_an_admin_renames_and_colours_the_node(page: Any, node: Node, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(56, 56))
    sign_in_as_admin(page, node)
    page.get_by_role("link", name="Administration").first.click()
    page.get_by_role("link", name="Réglages").click()
    page.wait_for_url("**/admin/settings")
    assert axe_violations(page) == []
    name_field = page.get_by_label("Nom du nœud")
    colour_field = page.get_by_label("Couleur principale")
    before = (name_field.input_value(), colour_field.input_value())
    try:
        # a colour white text cannot be read on is refused, next to its field, kept
        name_field.fill("Lille en commun")
        colour_field.fill("#ffd700")
        save(page)
        error = page.locator("#f-primary_colour-error")
        assert "trop claire pour un texte blanc" in error.inner_text()
        assert colour_field.input_value() == "#ffd700"
        assert name_field.input_value() == "Lille en commun"

        colour_field.fill("#7a1f5c")
        page.get_by_label("Logo", exact=True).set_input_files(str(logo))
        save(page)
        assert page.get_by_text("Les réglages sont enregistrés.").is_visible()

        page.goto(node.url("/"))
        assert page.locator(".brand-name").inner_text() == "Lille en commun"
        assert page.title() == "Lille en commun"  # the header's name, not twice
        accent = page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
        )
        assert accent == "#7a1f5c"
        button = page.locator(".site-search button")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(122, 31, 92)"
        image = page.locator("img.brand-logo")
        assert image.evaluate("img => img.complete && img.naturalWidth") == 56  # decoded
        assert page.locator(".brand-mark").count() == 0
    finally:  # the node is shared by the browser tests: put its name and colour back
        page.goto(node.url("/admin/settings"))
        page.get_by_label("Nom du nœud").fill(before[0])
        page.get_by_label("Couleur principale").fill(before[1])
        remove = page.get_by_label("Retirer le logo (le symbole ◆ revient)")
        if remove.count():
            remove.check()
        save(page)
        assert page.get_by_text("Les réglages sont enregistrés.").is_visible()
