"""The shared vocabulary of our ActivityStreams: contexts, categories, limits, hosts.

Peers read events by plain key names (Mobilizon's context maps ``location`` and
``address`` to schema.org terms, nobody expands JSON-LD), so the inline context below is
for the few consumers that do expand: its prefixes are the ones Mastodon and Mobilizon
use (``http://schema.org#``, ``https://joinmobilizon.org/ns#``) so that expanded IRIs
match theirs.
"""

from __future__ import annotations

from typing import Any, Final

from node.models import Event, Place
from node.schemas import MAX_DESCRIPTION
from node.services.outbox import domain_of

AS_CONTEXT: Final = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT: Final = "https://w3id.org/security/v1"
AS_PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
#: Other spellings of the public collection that peers send (compacted forms).
PUBLIC_ALIASES: Final = frozenset({AS_PUBLIC, "as:Public", "Public"})

EXTENSION_CONTEXT: Final[dict[str, Any]] = {
    "sc": "http://schema.org#",
    "toot": "http://joinmastodon.org/ns#",
    "mz": "https://joinmobilizon.org/ns#",
    "pt": "https://joinpeertube.org/ns#",
    "ical": "http://www.w3.org/2002/12/cal/ical#",
    "fep8a8e": "https://w3id.org/fep/8a8e/",
    # schema.org postal addresses, as Mobilizon maps them
    "PostalAddress": "sc:PostalAddress",
    "address": "sc:address",
    "streetAddress": "sc:streetAddress",
    "postalCode": "sc:postalCode",
    "addressLocality": "sc:addressLocality",
    "addressRegion": "sc:addressRegion",
    "addressCountry": "sc:addressCountry",
    "PropertyValue": "sc:PropertyValue",
    "value": "sc:value",
    "inLanguage": "sc:inLanguage",
    # events: Mobilizon's terms, which FEP-8a8e adopts
    "joinMode": "mz:joinMode",
    "externalParticipationUrl": "mz:externalParticipationUrl",
    "timezone": "mz:timezone",
    "isOnline": "mz:isOnline",
    "participantCount": "mz:participantCount",
    "anonymousParticipationEnabled": "mz:anonymousParticipationEnabled",
    "commentsEnabled": "pt:commentsEnabled",
    "maximumAttendeeCapacity": "sc:maximumAttendeeCapacity",
    "remainingAttendeeCapacity": "sc:remainingAttendeeCapacity",
    "category": "sc:category",
    "status": "ical:status",
    # actors
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "Hashtag": "as:Hashtag",
    "upcomingEvents": {"@id": "fep8a8e:upcomingEvents", "@type": "@id"},
    # groups: how they take members (Mobilizon's term and definition)
    "openness": {"@id": "mz:openness", "@type": "@id"},
}

#: The ``@context`` of every document we serve. Read-only: builders copy it.
CONTEXT: Final[list[Any]] = [AS_CONTEXT, SECURITY_CONTEXT, EXTENSION_CONTEXT]

# --- categories --------------------------------------------------------------------------

#: Our theme → the event ``category`` we send. Values are in both Mobilizon's built-in list
#: (``lib/mobilizon/events/categories.ex``) and FEP-8a8e's recommended list, except
#: ``HEALTH``: no health category is in both, and Mobilizon (the main event peer) knows it.
THEME_CATEGORIES: Final[dict[str, str]] = {
    "food": "FOOD_DRINK",
    "culture": "ARTS",
    "social-economy": "BUSINESS",
    "education": "LEARNING",
    "employment": "NETWORKING",
    "energy": "CAUSES",
    "environment": "CAUSES",
    "housing": "COMMUNITY",
    "mobility": "COMMUNITY",
    "digital": "SCIENCE_TECH",
    "health": "HEALTH",
    "solidarity": "CAUSES",
    "sport": "SPORTS",
    "citizenship": "MOVEMENTS_POLITICS",
    "crafts": "CRAFTS",
    "sharing": "COMMUNITY",
}
#: Sent when an event has no theme: Mobilizon's default, also in FEP-8a8e's list.
DEFAULT_CATEGORY: Final = "MEETING"

#: A received category → the theme it clearly implies. Conservative on purpose: broad
#: categories (``COMMUNITY``, ``MEETING``, ``BUSINESS``, ``NETWORKING``…) imply none.
CATEGORY_THEMES: Final[dict[str, str]] = {
    "FOOD_DRINK": "food",
    "ARTS": "culture",
    "PERFORMING_VISUAL_ARTS": "culture",
    "THEATRE": "culture",
    "MUSIC": "culture",
    "FILM_MEDIA": "culture",
    "LANGUAGE_CULTURE": "culture",
    "PHOTOGRAPHY": "culture",
    "BOOK_CLUBS": "culture",
    "COMEDY": "culture",
    "FESTIVALS": "culture",
    "LEARNING": "education",
    "FAMILY_EDUCATION": "education",
    "CLIMATE_ENVIRONMENT": "environment",
    "SCIENCE_TECH": "digital",
    "HEALTH": "health",
    "MEDITATION_WELLBEING": "health",
    "CAUSES": "solidarity",
    "SPORTS": "sport",
    "OUTDOORS_ADVENTURE": "sport",
    "MOVEMENTS_POLITICS": "citizenship",
    "CRAFTS": "crafts",
    "DIY_MAKER_SPACES": "crafts",
    "WORKSHOPS_SKILL_SHARING": "sharing",
}


def category_of(themes: list[str]) -> str:
    """The category of an event: its first (main) theme's, else ``MEETING``."""
    for theme in themes:
        if theme in THEME_CATEGORIES:
            return THEME_CATEGORIES[theme]
    return DEFAULT_CATEGORY


# --- limits ------------------------------------------------------------------------------


def _length(column: Any) -> int:
    length = column.type.length
    assert isinstance(length, int)
    return length


#: Maximum lengths, read from the models so that they cannot drift.
NAME_MAX: Final = _length(Event.__table__.c["name"])  # type: ignore[attr-defined]
URL_MAX: Final = _length(Event.__table__.c["online_url"])  # type: ignore[attr-defined]
TIMEZONE_MAX: Final = _length(Event.__table__.c["timezone"])  # type: ignore[attr-defined]
STREET_MAX: Final = _length(Place.__table__.c["street"])  # type: ignore[attr-defined]
POSTAL_CODE_MAX: Final = _length(Place.__table__.c["postal_code"])  # type: ignore[attr-defined]
CITY_MAX: Final = _length(Place.__table__.c["city"])  # type: ignore[attr-defined]
COUNTRY_MAX: Final = _length(Place.__table__.c["country"])  # type: ignore[attr-defined]
DESCRIPTION_MAX: Final = MAX_DESCRIPTION
USERNAME_MAX: Final = 255
#: As :data:`node.schemas.Tags` and ``co_organiser_ids`` allow.
TAGS_MAX: Final = 30
ORGANISERS_MAX: Final = 11


# --- URLs --------------------------------------------------------------------------------

def host_of(url: str) -> str:
    """The host of a URL as :func:`node.services.outbox.domain_of` names it, but strict:
    ``https://Mobilizon.Example:443/@x`` → ``mobilizon.example``; :class:`ValueError` for a
    URL without a host or with an invalid port."""
    host = domain_of(url)
    if not host:
        raise ValueError(f"no host in {url[:80]!r}")
    return host


def base_of(ap_id: str) -> str:
    """The node's base URL from a local object's id (``<base>/<collection>/<id>``)."""
    scheme, rest = ap_id.split("://", 1) if "://" in ap_id else ("https", ap_id)
    segments = rest.split("/")
    kept = segments[:-2] if len(segments) >= 3 else segments[:1]
    return f"{scheme}://{'/'.join(kept)}"
