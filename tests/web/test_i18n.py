"""Catalogues stay complete; languages are negotiated; dates follow the language and zone."""

from __future__ import annotations

from datetime import UTC, datetime

from web import i18n
from web.messages import problems


def test_the_catalogues_are_current_and_french_is_complete() -> None:
    assert problems() == [], "run `python -m web.messages update` and translate"


def test_negotiation_order() -> None:
    assert i18n.negotiate("en", "fr", "fr", "fr") == "en"  # the switch
    assert i18n.negotiate(None, "en", "fr", "fr") == "en"  # the account
    assert i18n.negotiate(None, None, "de-DE,en;q=0.8,fr;q=0.9", "fr") == "fr"
    assert i18n.negotiate(None, None, "de, es", "en") == "en"  # the node's default
    assert i18n.negotiate("xx", None, "*", "fr") == "fr"


def test_accept_language_parsing_survives_garbage() -> None:
    assert i18n.parse_accept_language("en;q=abc, fr;q=0.5") == ["fr"]
    assert i18n.parse_accept_language(",,;;") == []


def test_dates_in_the_language_and_the_event_zone() -> None:
    start = datetime(2030, 5, 16, 12, 0, tzinfo=UTC)
    end = datetime(2030, 5, 16, 16, 0, tzinfo=UTC)
    french = i18n.format_span(start, end, "fr", "Europe/Paris")
    assert french == "jeudi 16 mai 2030, 14:00 – 18:00"
    english = i18n.format_span(start, end, "en", "America/Montreal")
    assert english.startswith("Thursday, May 16, 2030, 8:00")
