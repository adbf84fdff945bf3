"""The message catalogues: what to translate, and how to keep the ``.po`` files current.

``python -m web.messages update`` extracts every message (templates: ``_``/``gettext``;
Python: ``Web.gettext(request, …)``, ``N_(…)``) into ``web/translations/messages.pot``
and merges it into each language's ``.po``; ``check`` exits 1 when the template is out
of date or a French translation is missing (a test runs the same check).

The node's own error messages (what a service or a schema refuses) are listed here
with ``N_`` so that forms can show them translated.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from web.i18n import DOMAIN, LANGUAGES, TRANSLATIONS_DIR

WEB_DIR = Path(__file__).parent
POT = TRANSLATIONS_DIR / f"{DOMAIN}.pot"
PYTHON_KEYWORDS = {"gettext": (2,), "ngettext": (2, 3), "N_": None}
TEMPLATE_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def N_(message: str) -> str:
    """Mark a message for extraction; translated where it is shown."""
    return message


#: messages of the node (services and schemas) that forms show to people
NODE_MESSAGES = (
    N_("already registered"),
    N_("wrong password"),
    N_("wrong email or password"),
    N_("a place needs an address, a city or coordinates"),
    N_("latitude and longitude go together"),
    N_("must be an http:// or https:// URL"),
    N_("an event needs a place, an online_url, or both"),
    N_("join_mode 'external' needs an external_participation_url"),
    N_("must be after starts_at"),
    N_("an event lasts at most a year"),
    N_("out of range (1970-2199)"),
    N_("unknown IANA time zone"),
    N_("a SIREN has 9 digits"),
    N_("invalid SIREN checksum"),
    N_("an RNA number looks like W595012345"),
    N_("control characters are not allowed"),
    N_("value is not a valid email address: An email address must have an @-sign."),
    N_("a project stays with its organisation"),
    N_("an organisation keeps at least one admin"),
    N_("this event is full"),
    N_("this event is cancelled"),
    N_("this event is over"),
    N_("the organisers declined this registration"),
    N_("only the organisation's admins may do this"),
    N_("only the admins of an organiser may do this"),
    N_("only the project's admins may do this"),
    N_("remote objects are edited on their origin node"),
    N_("no such membership"),
    N_("no such registration"),
)


def extract() -> Catalog:
    """Every message of the templates and the Python modules of ``web``."""
    catalogue = Catalog(
        project="Maillon",
        version="0.1",
        copyright_holder="Maillon contributors",
        domain=DOMAIN,
        fuzzy=False,
    )
    passes: list[tuple[list[tuple[str, str]], dict[str, Any]]] = [
        ([("templates/**.html", "jinja2.ext:babel_extract")], TEMPLATE_KEYWORDS),
        ([("**.py", "python")], PYTHON_KEYWORDS),
    ]
    for method_map, keywords in passes:
        options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}
        found = extract_from_dir(
            WEB_DIR,
            method_map,
            options,
            keywords=keywords,
            directory_filter=lambda path: "__pycache__" not in path,
        )
        for filename, lineno, message, comments, context in found:
            catalogue.add(
                message, None, [(filename, lineno)], auto_comments=comments, context=context
            )
    return catalogue


def _ids(catalogue: Catalog) -> set[object]:
    return {m.id for m in catalogue if m.id}


def _load(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def _write(path: Path, catalogue: Catalog) -> None:
    buffer = BytesIO()
    write_po(buffer, catalogue, omit_header=False, sort_output=True, width=96, no_location=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def update() -> None:
    template = extract()
    _write(POT, template)
    for language in LANGUAGES:
        po = TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.is_file():
            catalogue = _load(po, language)
            catalogue.update(template, no_fuzzy_matching=True, update_creation_date=False)
            catalogue.obsolete.clear()
            catalogue.fuzzy = False
        else:
            catalogue = Catalog(locale=language, domain=DOMAIN, project="Maillon", fuzzy=False)
            catalogue.update(template, no_fuzzy_matching=True)
        _write(po, catalogue)


def problems() -> list[str]:
    """What is out of date: messages missing from the template, French gaps, fuzzy ones."""
    found: list[str] = []
    extracted = _ids(extract())
    stored = _ids(_load(POT)) if POT.is_file() else set()
    found.extend(f"not in messages.pot: {m!r}" for m in sorted(extracted - stored, key=str))
    found.extend(f"no longer used: {m!r}" for m in sorted(stored - extracted, key=str))
    french = TRANSLATIONS_DIR / "fr" / "LC_MESSAGES" / f"{DOMAIN}.po"
    catalogue = _load(french, "fr")
    for message in catalogue:
        if message.id and (not message.string or message.fuzzy):
            found.append(f"fr: untranslated {message.id!r}")
    found.extend(f"fr: missing {m!r}" for m in sorted(extracted - _ids(catalogue), key=str))
    return found


def main(argv: Iterable[str]) -> int:
    command = list(argv)[:1] or ["check"]
    if command == ["update"]:
        update()
        return 0
    listed = problems()
    for line in listed:
        print(line)
    return 1 if listed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
