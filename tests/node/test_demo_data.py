"""Invariants of the demo territory data (node/demo_data.py)."""

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from node import demo_data
from node.demo_data import (
    EVENTS,
    ORGANISATIONS,
    PEOPLE,
    PROJECTS,
    TERRITORY,
    EventData,
    PlaceData,
)

THEME_IDS = frozenset(
    {
        "food",
        "culture",
        "social-economy",
        "education",
        "employment",
        "energy",
        "environment",
        "housing",
        "mobility",
        "digital",
        "health",
        "solidarity",
        "sport",
        "citizenship",
        "crafts",
        "sharing",
    }
)
KINDS = frozenset(
    {"association", "cooperative", "social-enterprise", "company", "public-body", "informal-group"}
)
LEGAL_FORMS = frozenset(
    {
        "association-1901",
        "scop",
        "scic",
        "cae",
        "cooperative",
        "mutuelle",
        "fondation",
        "sas-esus",
        "sarl-esus",
        "other",
    }
)
STAGES = frozenset({"idea", "launched", "mature"})
JOIN_MODES = frozenset({"free", "restricted", "external"})
STATUSES = frozenset({"confirmed", "tentative", "cancelled"})

# The organisations the demo must contain (by key), as the brief names them.
REQUIRED_ORGANISATIONS = {
    "maison-ess": "Maison de l",
    "cofabrik": "CoFabrik",
    "apes-hdf": "APES",
    "adere-hdf": "ADERE",
    "superquinquin": "SuperQuinquin",
    "grands-ensemble": "Grands Ensemble",
    "pinkup": "Pink'Up",
    "garage-solidaire-hainaut": "Garage solidaire du Hainaut",
    "bricaulier": "Bricaulier",
    "ayin": "Ayïn",
    "el-market": "el MARKET",
    "kilti": "Kilti",
}

# Places deliberately outside the Métropole européenne de Lille (Valenciennes area).
OUTSIDE_MEL_CITIES = frozenset({"Denain", "Anzin"})

# Metropolitan France, generously.
FRANCE_BBOX = (41.3, -5.2, 51.1, 9.6)

TAG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SLUG_RE = TAG_RE
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
EMAIL_RE = re.compile(r"^[a-z0-9.]+@demo\.maillon\.example$")

ORG_KEYS = {o["key"] for o in ORGANISATIONS}
PERSON_KEYS = {p["key"] for p in PEOPLE}


def _all_places() -> list[tuple[str, PlaceData]]:
    places: list[tuple[str, PlaceData]] = [(o["key"], o["place"]) for o in ORGANISATIONS]
    places += [(p["name"], p["place"]) for p in PROJECTS if "place" in p]
    places += [(e["name"], e["place"]) for e in EVENTS if "place" in e]
    return places


def _inside(bbox: tuple[float, float, float, float], lat: float, lon: float) -> bool:
    min_lat, min_lon, max_lat, max_lon = bbox
    return min_lat <= lat <= max_lat and min_lon <= lon <= max_lon


# ---------------------------------------------------------------- module shape


def test_module_is_data_only() -> None:
    source = Path(demo_data.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            assert node.module is not None
            imported.add(node.module.split(".")[0])
    assert imported <= {"typing", "__future__"}
    for forbidden in ("open(", "Path(", "requests", "httpx", "urllib"):
        assert forbidden not in source


# ------------------------------------------------------------------- territory


def test_territory() -> None:
    assert TERRITORY["name"] == "Métropole lilloise"
    assert TERRITORY["slug"] == "metropole-lilloise"
    assert TERRITORY["timezone"] == "Europe/Paris"
    assert TERRITORY["default_language"] == "fr"
    min_lat, min_lon, max_lat, max_lon = TERRITORY["bbox"]
    assert min_lat < max_lat and min_lon < max_lon
    assert _inside(FRANCE_BBOX, min_lat, min_lon) and _inside(FRANCE_BBOX, max_lat, max_lon)
    # Lille's Grand'Place is inside, Valenciennes is not.
    assert _inside(TERRITORY["bbox"], 50.6369, 3.0635)
    assert not _inside(TERRITORY["bbox"], 50.3570, 3.5235)


def test_communes() -> None:
    communes = TERRITORY["communes"]
    assert len(communes) == len(set(communes))
    assert all(re.fullmatch(r"59[0-9]{3}", code) for code in communes)
    assert len(communes) <= 95
    largest = {
        "59350",  # Lille
        "59512",  # Roubaix
        "59599",  # Tourcoing
        "59009",  # Villeneuve-d'Ascq
        "59650",  # Wattrelos
        "59378",  # Marcq-en-Barœul
        "59328",  # Lambersart
        "59017",  # Armentières
        "59410",  # Mons-en-Barœul
        "59368",  # La Madeleine
        "59163",  # Croix
        "59360",  # Loos
        "59646",  # Wasquehal
        "59299",  # Hem
        "59279",  # Halluin
        "59286",  # Haubourdin
        "59507",  # Ronchin
        "59220",  # Faches-Thumesnil
        "59560",  # Seclin
        "59421",  # Mouvaux
    }
    assert largest <= set(communes)


# ---------------------------------------------------------------------- people


def test_people() -> None:
    assert 7 <= len(PEOPLE) <= 10
    keys = [p["key"] for p in PEOPLE]
    emails = [p["email"] for p in PEOPLE]
    assert len(keys) == len(set(keys))
    assert len(emails) == len(set(emails))
    for person in PEOPLE:
        assert SLUG_RE.match(person["key"]), person["key"]
        assert EMAIL_RE.match(person["email"]), person["email"]
        assert person["name"].strip()
    admins = {o["admin"] for o in ORGANISATIONS}
    assert 5 <= len(admins) <= 8
    citizens = PERSON_KEYS - admins
    assert len(citizens) >= 2


# --------------------------------------------------------------- organisations


def test_organisations() -> None:
    assert len(ORGANISATIONS) >= 12
    keys = [o["key"] for o in ORGANISATIONS]
    assert len(keys) == len(set(keys))
    names = [o["name"] for o in ORGANISATIONS]
    assert len(names) == len(set(names))
    for org in ORGANISATIONS:
        assert SLUG_RE.match(org["key"]), org["key"]
        assert org["kind"] in KINDS, org["key"]
        if "legal_form" in org:
            assert org["legal_form"] in LEGAL_FORMS, org["key"]
        assert org["admin"] in PERSON_KEYS, org["key"]
        assert 80 <= len(org["description"]) <= 900, org["key"]
        if "website" in org:
            assert org["website"].startswith(("https://", "http://")), org["key"]


def test_required_organisations_present() -> None:
    by_key = {o["key"]: o for o in ORGANISATIONS}
    for key, name_part in REQUIRED_ORGANISATIONS.items():
        assert key in by_key, key
        assert name_part.lower() in by_key[key]["name"].lower(), key


def test_known_addresses() -> None:
    by_key = {o["key"]: o for o in ORGANISATIONS}
    mess = by_key["maison-ess"]["place"]
    assert mess["street"] == "235 boulevard Paul Painlevé"
    assert (mess["postal_code"], mess["city"]) == ("59000", "Lille")
    cofabrik = by_key["cofabrik"]["place"]
    assert cofabrik["street"] == "1 bis rue Charles Delesalle"
    assert (cofabrik["postal_code"], cofabrik["city"]) == ("59000", "Lille")
    sq = by_key["superquinquin"]["place"]
    assert sq["city"] == "Lille" and sq["postal_code"] == "59800"  # Fives
    assert by_key["garage-solidaire-hainaut"]["place"]["city"] in OUTSIDE_MEL_CITIES


# -------------------------------------------------------------------- projects


def test_projects() -> None:
    assert len(PROJECTS) >= 8
    names = [p["name"] for p in PROJECTS]
    assert len(names) == len(set(names))
    for project in PROJECTS:
        assert project["organisation"] in ORG_KEYS, project["name"]
        assert project["stage"] in STAGES, project["name"]
        assert project["description"].strip()
    stages = Counter(p["stage"] for p in PROJECTS)
    assert set(stages) == STAGES
    assert min(stages.values()) >= 2


# ---------------------------------------------------------------------- events


def test_events_count_and_dates() -> None:
    assert len(EVENTS) >= 36
    names = [e["name"] for e in EVENTS]
    assert len(names) == len(set(names))
    offsets = [e["day_offset"] for e in EVENTS]
    assert all(0 <= d <= 60 for d in offsets)
    # spread over the two months, not bunched
    assert min(offsets) == 0 and max(offsets) >= 55
    assert len({d // 10 for d in offsets}) == 7
    for event in EVENTS:
        assert TIME_RE.match(event["start"]), event["name"]
        assert 30 <= event["duration_minutes"] <= 12 * 60, event["name"]
        hours, minutes = map(int, event["start"].split(":"))
        assert hours * 60 + minutes + event["duration_minutes"] <= 24 * 60, event["name"]
    evenings = [e for e in EVENTS if int(e["start"][:2]) >= 18]
    assert len(evenings) >= 5


def test_events_organisers_exist() -> None:
    for event in EVENTS:
        assert event["organisation"] in ORG_KEYS, event["name"]
        co = event.get("co_organisers", [])
        assert len(co) == len(set(co)), event["name"]
        assert event["organisation"] not in co, event["name"]
        assert set(co) <= ORG_KEYS, event["name"]
    assert sum(1 for e in EVENTS if e.get("co_organisers")) >= 5


def test_events_place_or_online() -> None:
    for event in EVENTS:
        assert "place" in event or "online_url" in event, event["name"]
        if "online_url" in event:
            assert event["online_url"].startswith("https://"), event["name"]
    online = [e for e in EVENTS if "online_url" in e]
    assert 2 <= len(online) <= 4
    assert any("place" not in e for e in online)  # at least one online-only


def _check_join(event: EventData) -> None:
    assert event["join_mode"] in JOIN_MODES, event["name"]
    if event["join_mode"] == "external":
        assert event.get("external_participation_url", "").startswith("https://"), event["name"]
    else:
        assert "external_participation_url" not in event, event["name"]
    if "capacity" in event:
        assert event["capacity"] > 0, event["name"]
    assert event.get("status", "confirmed") in STATUSES, event["name"]


def test_events_join_modes_and_statuses() -> None:
    for event in EVENTS:
        _check_join(event)
    modes = Counter(e["join_mode"] for e in EVENTS)
    assert modes["restricted"] >= 2
    assert modes["external"] >= 1
    assert sum(1 for e in EVENTS if "capacity" in e) >= 3
    statuses = Counter(e.get("status", "confirmed") for e in EVENTS)
    assert statuses["tentative"] >= 1
    assert statuses["cancelled"] >= 1


def test_events_cover_themes_and_communes() -> None:
    covered = {t for e in EVENTS for t in e["themes"]}
    assert len(covered) >= 12
    cities = {e["place"]["city"] for e in EVENTS if "place" in e}
    assert {"Lille", "Roubaix", "Tourcoing", "Villeneuve-d'Ascq"} <= cities
    lille_codes = {
        e["place"]["postal_code"] for e in EVENTS if "place" in e and e["place"]["city"] == "Lille"
    }
    assert {"59000", "59800"} <= lille_codes  # centre/Moulins/Wazemmes and Fives


# -------------------------------------------------------------- themes & tags


def _themed() -> list[tuple[str, list[str], list[str]]]:
    items = [(o["key"], o["themes"], o["tags"]) for o in ORGANISATIONS]
    items += [(p["name"], p["themes"], p["tags"]) for p in PROJECTS]
    items += [(e["name"], e["themes"], e["tags"]) for e in EVENTS]
    return items


@pytest.mark.parametrize(("label", "themes", "tags"), _themed())
def test_themes_and_tags(label: str, themes: list[str], tags: list[str]) -> None:
    assert themes, label
    assert set(themes) <= THEME_IDS, label
    assert len(themes) == len(set(themes)), label
    assert tags, label
    assert len(tags) == len(set(tags)), label
    for tag in tags:
        assert tag.isascii() and TAG_RE.match(tag), (label, tag)
        assert "#" not in tag and " " not in tag


# ---------------------------------------------------------------------- places


@pytest.mark.parametrize(("label", "place"), _all_places())
def test_place(label: str, place: PlaceData) -> None:
    assert place["country"] == "FR", label
    assert re.fullmatch(r"[0-9]{5}", place["postal_code"]), label
    assert place["street"].strip() and place["city"].strip(), label
    lat, lon = place["latitude"], place["longitude"]
    assert round(lat, 5) == lat and round(lon, 5) == lon, label
    assert _inside(FRANCE_BBOX, lat, lon), label
    if place["city"] in OUTSIDE_MEL_CITIES:
        assert not _inside(TERRITORY["bbox"], lat, lon), label
    else:
        assert place["postal_code"].startswith("59"), label
        assert _inside(TERRITORY["bbox"], lat, lon), label
    if place["city"] == "Lille":
        # Lille proper (with Fives, Moulins, Wazemmes, Vieux-Lille)
        assert 50.60 <= lat <= 50.66 and 3.01 <= lon <= 3.10, label


def test_places_are_not_shared_objects() -> None:
    places = [place for _, place in _all_places()]
    assert len({id(p) for p in places}) == len(places)
