"""Languages of the pages: gettext catalogues (Babel), the locale of a request, dates.

Catalogues are the ``.po`` files under ``web/translations/<lang>/LC_MESSAGES``, compiled
in memory when the node starts (a few milliseconds): the ``.po`` is the one source, no
compiled ``.mo`` can go stale beside it, and no build step is needed (see docs/web.md).
Message ids are English; the French catalogue translates every one of them (a test
keeps it complete), the English one is empty and falls back on the ids.

The locale of a request is, in order: the language the person chose with the switch
(cookie), their account's, the browser's ``Accept-Language``, the node's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

LANGUAGES: tuple[str, ...] = ("fr", "en")
NAMES: dict[str, str] = {"fr": "Français", "en": "English"}
COOKIE = "maillon_lang"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "messages"


def load_catalogues(directory: Path = TRANSLATIONS_DIR) -> dict[str, NullTranslations]:
    """Every language's catalogue, compiled from its ``.po`` in memory."""
    found: dict[str, NullTranslations] = {}
    for language in LANGUAGES:
        po = directory / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po.is_file():
            found[language] = NullTranslations()
            continue
        with po.open("rb") as handle:
            catalogue = read_po(handle, locale=language, domain=DOMAIN)
        compiled = BytesIO()
        write_mo(compiled, catalogue, use_fuzzy=False)
        compiled.seek(0)
        found[language] = Translations(compiled, domain=DOMAIN)
    return found


def parse_accept_language(header: str) -> list[str]:
    """Primary language tags of an ``Accept-Language`` header, best first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and primary != "*" and weight > 0:
            weighted.append((-weight, index, primary))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(
    chosen: str | None, account: str | None, accept_language: str, default: str
) -> str:
    """The request's language: the switch's choice, the account's, the browser's, the node's."""
    for candidate in (chosen, account):
        if candidate in LANGUAGES:
            return candidate
    for tag in parse_accept_language(accept_language):
        if tag in LANGUAGES:
            return tag
    return default if default in LANGUAGES else LANGUAGES[0]


class Translator:
    """The catalogues and the gettext callables templates use (newstyle, autoescaped).

    The callables are installed once in the jinja environment and read the language
    from the render context (``locale``), so one environment serves every language.
    """

    def __init__(self, catalogues: Mapping[str, NullTranslations]) -> None:
        self.catalogues = dict(catalogues)

    def of(self, language: str) -> NullTranslations:
        return self.catalogues.get(language) or NullTranslations()

    def gettext(self, language: str, message: str, **variables: Any) -> str:
        text = self.of(language).gettext(message)
        return text % variables if variables else text

    def ngettext(
        self, language: str, singular: str, plural: str, n: int, **variables: Any
    ) -> str:
        variables.setdefault("num", n)
        return self.of(language).ngettext(singular, plural, n) % variables

    def template_callables(self) -> dict[str, Any]:
        catalogues = self
        #: (language, message) → the translation, ready to insert: most calls of a
        #: page have no variables, and a page makes twenty of them
        plain: dict[tuple[str, str], Markup] = {}

        @pass_context
        def gettext(context: Context, message: str, **variables: Any) -> str:
            language = context.get("locale", "fr")
            if not variables and context.eval_ctx.autoescape:
                found = plain.get((language, message))
                if found is None:
                    found = Markup(catalogues.of(language).gettext(message)) % {}
                    if len(plain) < 10_000:
                        plain[(language, message)] = found
                return found
            text = catalogues.of(language).gettext(message)
            if context.eval_ctx.autoescape:
                text = Markup(text)
            return text % variables

        @pass_context
        def ngettext(
            context: Context, singular: str, plural: str, n: int, **variables: Any
        ) -> str:
            variables.setdefault("num", n)
            text = catalogues.of(context.get("locale", "fr")).ngettext(singular, plural, n)
            if context.eval_ctx.autoescape:
                text = Markup(text)
            return text % variables

        return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


# --- dates ---------------------------------------------------------------------------


def _zone(timezone: str | None) -> ZoneInfo | None:
    return ZoneInfo(timezone) if timezone else None


@lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    """Parsed once: Babel parses a locale string again on every call it is given."""
    return Locale.parse(language)


@lru_cache(maxsize=4096)  # a list shows twenty of them per page, the same ones often
def format_moment(moment: datetime, language: str, timezone: str | None = None) -> str:
    """``jeu. 16 mai 2030, 14:00`` / ``Thu, May 16, 2030, 2:00 PM``, in ``timezone``."""
    zone = _zone(timezone)
    locale = _locale(language)
    day = format_skeleton("yMMMEd", moment, tzinfo=zone, locale=locale)
    return f"{day}, {format_time(moment, 'short', tzinfo=zone, locale=locale)}"


def format_day(
    moment: datetime | date, language: str, timezone: str | None = None, style: str = "full"
) -> str:
    """``samedi 16 mai 2030`` / ``Saturday, May 16, 2030`` (in ``timezone``)."""
    if isinstance(moment, datetime):
        zone = _zone(timezone)
        moment = moment.astimezone(zone).date() if zone else moment.date()
    return format_date(moment, style, locale=_locale(language))


def format_clock(moment: datetime, language: str, timezone: str | None = None) -> str:
    """``14:00`` / ``2:00 PM`` in ``timezone``."""
    return format_time(moment, "short", tzinfo=_zone(timezone), locale=_locale(language))


@lru_cache(maxsize=4096)
def format_span(start: datetime, end: datetime, language: str, timezone: str) -> str:
    """When an event happens, in its zone: one day with two times, or two full dates."""
    zone = ZoneInfo(timezone)
    first, last = start.astimezone(zone), end.astimezone(zone)
    if first.date() == last.date():
        return (
            f"{format_day(first, language)}, {format_clock(first, language)}"
            f" – {format_clock(last, language)}"
        )
    return f"{format_moment(first, language, timezone)} – {format_moment(last, language, timezone)}"
