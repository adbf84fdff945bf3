"""axe-core (vendored from npm) finds no serious or critical violation on the main pages."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.web.browser.conftest import Node, axe_violations, sign_up


@pytest.mark.parametrize("path", ["/", "/search?q=atelier&view=list", "/search?view=agenda"])
def test_public_pages(page: Any, node: Node, path: str) -> None:
    page.goto(node.url(path))
    assert axe_violations(page) == []


def test_event_and_organisation_pages(page: Any, node: Node) -> None:
    page.goto(node.url("/search?type=event"))
    page.locator("#result-list li.result h3 a").first.click()
    page.wait_for_url(re.compile(r".*/events/[0-9a-f-]+$"))
    assert axe_violations(page) == []
    page.locator("aside").get_by_role("link").filter(has_not_text=".ics").last.click()
    page.wait_for_url(re.compile(r".*/organisations/[0-9a-f-]+$"))
    assert axe_violations(page) == []


def test_the_event_form(page: Any, node: Node) -> None:
    suffix = uuid.uuid4().hex[:6]
    sign_up(page, node, "Axe", f"axe-{suffix}@lille.example")
    page.goto(node.url("/organisations/new"))
    page.get_by_label("Nom", exact=False).first.fill(f"Audit {suffix}")
    page.get_by_label("Commune").fill("Lille")
    page.get_by_role("button", name="Publier la page").click()
    page.get_by_role("link", name="Publier un événement").first.click()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Publier l’événement").click()  # with errors shown
    assert page.locator("#form-error").is_visible()
    assert axe_violations(page) == []
