"""Journeys in a real browser: a citizen, an association, the language switch."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.web.browser.conftest import Node, poll, sign_up


def test_a_citizen_finds_registers_and_takes_the_event_home(page: Any, node: Node) -> None:
    sign_up(page, node, "Léa Citoyenne", f"lea-{uuid.uuid4().hex[:6]}@lille.example")
    page.goto(node.url("/"))
    assert page.locator("#map .leaflet-marker-icon").count() > 0  # the map, without tiles
    # Search by date near a point: within 10 km of Lille, the next two weeks…
    page.get_by_label("Près de (commune ou code postal)").fill("Lille")
    page.get_by_label("Dans un rayon de").select_option("10")
    today = date.today()
    page.get_by_label("Du", exact=True).fill(today.isoformat())
    page.get_by_label("Au", exact=True).fill((today + timedelta(days=14)).isoformat())
    page.locator('input[name="type"][value="event"]').check()
    page.get_by_role("button", name="Afficher les résultats").click()
    page.wait_for_url(re.compile(r".*/search\?.*near=Lille.*"))
    # … then by a theme that has results there (facet counts say which)
    counts = page.locator('input[name="theme"] ~ .count')
    assert counts.count() > 0
    chip = page.locator("label.chip", has=page.locator(".count")).first
    theme = chip.locator('input[name="theme"]').get_attribute("value")
    chip.click()
    page.get_by_role("button", name="Afficher les résultats").click()
    page.wait_for_url(re.compile(rf".*theme={theme}.*"))
    results = page.locator("#result-list > li.result")
    assert results.count() > 0
    # the map and the list agree: one pin per listed item with a position, same names
    located = page.locator("#result-list > li.result[data-lat]")
    markers = page.locator("#map .leaflet-marker-icon")
    assert markers.count() == located.count()
    pins = sorted(markers.nth(i).get_attribute("title") or "" for i in range(markers.count()))
    names = sorted(located.nth(i).locator("h3").inner_text() for i in range(located.count()))
    assert pins == names
    # open the first event that registers here, register
    links = page.locator("#result-list > li.result h3 a")
    opened = None
    for index in range(links.count()):
        links.nth(index).click()
        if page.get_by_role("button", name="M’inscrire").count():
            opened = page.url
            break
        page.go_back()
    assert opened, "no open registration among the results"
    name = page.locator("h1").inner_text()
    page.get_by_role("button", name="M’inscrire").click()  # htmx swaps the block in place
    page.locator("#participation").get_by_text("Vous êtes inscrit·e.").wait_for()
    assert page.url == opened
    assert "1 personne inscrite" in page.locator("#participant-count").inner_text() or (
        "personnes inscrites" in page.locator("#participant-count").inner_text()
    )
    # my agenda lists it; its .ics downloads
    page.get_by_role("link", name="Mon agenda", exact=True).click()
    assert page.get_by_role("link", name=name).is_visible()
    with page.expect_download() as download:
        item = page.locator("li.result", has_text=name)
        item.get_by_role("link", name=re.compile(r"\.ics")).click()
    body = Path(download.value.path()).read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in body and "SUMMARY:" in body


def test_an_association_publishes_an_event_that_search_finds(page: Any, node: Node) -> None:
    suffix = uuid.uuid4().hex[:6]
    sign_up(page, node, "Atelier Partagé", f"asso-{suffix}@lille.example")
    page.goto(node.url("/organisations/new"))
    page.get_by_label("Nom", exact=False).first.fill(f"Atelier {suffix}")
    page.get_by_label("Commune").fill("Roubaix")
    page.get_by_role("button", name="Publier la page").click()
    page.wait_for_url(re.compile(r".*/organisations/[0-9a-f-]+$"))
    assert page.get_by_text("La page de votre organisation est publiée.").is_visible()
    page.get_by_role("link", name="Publier un événement").first.click()
    event_name = f"Bourse aux vélos {suffix}"
    page.get_by_label("Nom de l’événement").fill(event_name)
    page.locator("#f-starts_on").fill((date.today() + timedelta(days=5)).isoformat())
    page.get_by_label("Début à").fill("10:00")
    page.get_by_label("Fin à").fill("12:00")
    page.get_by_label("Commune").fill("Roubaix")
    page.get_by_role("button", name="Publier l’événement").click()
    page.wait_for_url(re.compile(r".*/events/[0-9a-f-]+$"))
    assert page.locator("h1").inner_text() == event_name
    # the in-process worker indexes it: search finds it (polled with a deadline)
    with httpx.Client(base_url=node.base, timeout=5.0) as http:

        def found() -> bool:
            answer = http.get("/api/v1/search", params={"q": event_name})
            return any(h["name"] == event_name for h in answer.json()["hits"])

        poll(found, 30, "the published event is searchable")
    page.goto(node.url(f"/search?q={suffix}"))
    assert page.locator("#result-list").get_by_role("link", name=event_name).is_visible()


def test_an_invalid_event_form_keeps_what_was_typed(page: Any, node: Node) -> None:
    suffix = uuid.uuid4().hex[:6]
    sign_up(page, node, "Collectif", f"collectif-{suffix}@lille.example")
    page.goto(node.url("/organisations/new"))
    page.get_by_label("Nom", exact=False).first.fill(f"Collectif {suffix}")
    page.get_by_label("Commune").fill("Lille")
    page.get_by_role("button", name="Publier la page").click()
    page.get_by_role("link", name="Publier un événement").first.click()
    page.get_by_label("Nom de l’événement").fill("Sans date")
    page.get_by_role("button", name="Publier l’événement").click()
    assert page.locator("#form-error").is_visible()
    assert page.locator("#f-starts_on-error").is_visible()
    assert page.get_by_label("Nom de l’événement").input_value() == "Sans date"


def test_the_language_switch(page: Any, node: Node) -> None:
    page.goto(node.url("/search"))
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(r".*/search$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Show the results").is_visible()
    page.get_by_role("button", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"
