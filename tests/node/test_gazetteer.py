"""The offline gazetteer of French communes (node/gazetteer.py, node/data/communes.tsv.gz)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from node.gazetteer import (
    Commune,
    Gazetteer,
    default_gazetteer,
    departments_for_postal_code,
    normalise_name,
    normalise_postal_code,
)

DATA = Path(__file__).resolve().parents[2] / "node" / "data"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return default_gazetteer()


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Saint-André-lez-Lille", "st andre lez lille"),
        ("Saint-André-lez-Lille", "SAINT ANDRE LEZ LILLE"),
        ("Saint-André-lez-Lille", "Saint-André-lès-Lille"),
        ("Villeneuve-d'Ascq", "villeneuve d ascq"),
        ("Villeneuve-d'Ascq", "VILLENEUVE D’ASCQ"),
        ("Sainte-Foy-lès-Lyon", "Ste Foy les Lyon"),
        ("Le Cateau-Cambrésis", "Cateau-Cambrésis (Le)"),
        ("Le Cateau", "Cateau (Le)"),
        ("L'Oie", "Oie (L')"),
        ("Les Ulis", "Ulis, Les"),
        ("Cœuvres-et-Valsery", "COEUVRES ET VALSERY"),
        ("L'Haÿ-les-Roses", "l hay les roses"),
        ("  Saint-Étienne ", "saint etienne"),
    ],
)
def test_normalise_name_equivalences(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_normalise_name_keys() -> None:
    assert normalise_name("Villeneuve-d'Ascq") == "villeneuve d ascq"
    assert normalise_name("St-Omer") == "saint omer"
    assert normalise_name("Stenay") == "stenay"  # "st" only as a whole word
    assert normalise_name("") == ""
    assert normalise_name("Zürich") == "zurich"


def test_normalise_name_keeps_distinct_names_apart() -> None:
    assert normalise_name("Lille") != normalise_name("Lisle")
    assert normalise_name("Saint-Martin") != normalise_name("Sainte-Martine")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("59000", "59000"),
        (" 59 000 ", "59000"),
        ("F-59000", "59000"),
        ("FR59000", "59000"),
        ("1000", "01000"),
        ("5900", "05900"),
        ("590000", None),
        ("ABCDE", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_postal_code(text: str | None, expected: str | None) -> None:
    assert normalise_postal_code(text) == expected


def test_departments_for_postal_code() -> None:
    assert departments_for_postal_code("59000") == {"59"}
    assert departments_for_postal_code("20000") == {"2A", "2B"}
    assert departments_for_postal_code("97400") == {"974"}


# --------------------------------------------------------------------------- the data


def test_shipped_file_is_small() -> None:
    assert (DATA / "communes.tsv.gz").stat().st_size < 1_000_000
    assert (DATA / "LICENCE-communes.md").is_file()


def test_shipped_data_is_consistent(gazetteer: Gazetteer) -> None:
    communes = list(gazetteer)
    assert 34_000 < len(communes) == len(gazetteer) < 36_000
    codes = [c.insee for c in communes]
    assert len(set(codes)) == len(codes)
    for c in communes:
        assert len(c.insee) == 5, c
        assert c.name and c.department and c.postal_codes, c
        assert all(len(p) == 5 and p.isdigit() for p in c.postal_codes), c
        metro = 41.0 < c.latitude < 51.5 and -5.5 < c.longitude < 10.0
        assert metro or c.department.startswith("97"), c


def test_default_gazetteer_is_cached() -> None:
    assert default_gazetteer() is default_gazetteer()


def test_by_insee(gazetteer: Gazetteer) -> None:
    lille = gazetteer.by_insee("59350")
    assert lille is not None
    assert lille.name == "Lille"
    assert lille.department == "59"
    assert set(lille.postal_codes) >= {"59000", "59160", "59260", "59777", "59800"}
    assert lille.latitude == pytest.approx(50.63, abs=0.03)
    assert lille.longitude == pytest.approx(3.06, abs=0.04)
    ajaccio = gazetteer.by_insee("2a004")
    assert ajaccio is not None and ajaccio.name == "Ajaccio" and ajaccio.department == "2A"
    assert gazetteer.by_insee("00000") is None


def test_by_postal_code(gazetteer: Gazetteer) -> None:
    assert [c.name for c in gazetteer.by_postal_code("59100")] == ["Roubaix"]
    assert {c.name for c in gazetteer.by_postal_code("59260")} == {"Lille", "Lezennes"}
    assert {c.insee for c in gazetteer.by_postal_code("59 650")} == {"59009"}
    assert gazetteer.by_postal_code("00000") == []
    assert gazetteer.by_postal_code("nope") == []


# --------------------------------------------------------------------------- find


@pytest.mark.parametrize(
    ("city", "postal_code", "insee"),
    [
        ("Lille", "59000", "59350"),
        ("LILLE", "59800", "59350"),
        ("lille", None, "59350"),
        (None, "59000", "59350"),
        (None, "59777", "59350"),
        ("Roubaix", "59100", "59512"),
        ("Roubaix", None, "59512"),
        (None, "59100", "59512"),
        ("Villeneuve-d'Ascq", "59650", "59009"),
        ("Villeneuve d Ascq", "59491", "59009"),
        ("VILLENEUVE D'ASCQ", None, "59009"),
        ("St André lez Lille", None, "59527"),
        ("Saint-André-lès-Lille", "59350", "59527"),
        ("Cateau-Cambrésis (Le)", None, "59136"),
        ("Lezennes", "59260", "59346"),
        ("Ajaccio", "20000", "2A004"),
        ("St Denis", "97400", "97411"),
    ],
)
def test_find(gazetteer: Gazetteer, city: str | None, postal_code: str | None, insee: str) -> None:
    found = gazetteer.find(city=city, postal_code=postal_code)
    assert found is not None
    assert found.insee == insee


def test_associated_communes_resolve_to_their_current_commune(gazetteer: Gazetteer) -> None:
    # Hellemmes-Lille and Lomme are communes associées of Lille since 1977/2000: not
    # entries of their own, but their names lead to Lille.
    assert gazetteer.by_insee("59298") is None
    assert gazetteer.by_insee("59355") is None
    lille = gazetteer.by_insee("59350")
    assert lille is not None
    assert {"Hellemmes-Lille", "Lomme"} <= set(lille.aliases)
    for city, postal_code in [
        ("Hellemmes", "59260"),
        ("Hellemmes-Lille", "59260"),
        ("Hellemmes-Lille", None),
        ("hellemmes", None),
        ("Lomme", "59160"),
        ("LOMME", None),
    ]:
        found = gazetteer.find(city=city, postal_code=postal_code)
        assert found is not None and found.insee == "59350", (city, postal_code)
    assert [c.insee for c in gazetteer.by_name("Hellemmes")] == ["59350"]


def test_official_names_win_over_former_communes(gazetteer: Gazetteer) -> None:
    # Capinghem shares 59160 with Lille (Lomme): its own name finds it.
    found = gazetteer.find(city="Capinghem", postal_code="59160")
    assert found is not None and found.name == "Capinghem"


def test_postal_code_shared_without_a_city_is_ambiguous(gazetteer: Gazetteer) -> None:
    assert gazetteer.find(postal_code="59260") is None  # Lille (Hellemmes) and Lezennes


def test_unmatched_city_falls_back_to_the_only_commune_of_the_postal_code(
    gazetteer: Gazetteer,
) -> None:
    found = gazetteer.find(city="Quartier de l'Alma", postal_code="59100")
    assert found is not None and found.name == "Roubaix"


def test_homonyms(gazetteer: Gazetteer) -> None:
    valences = gazetteer.by_name("Valence")
    assert len(valences) >= 2
    assert gazetteer.find(city="Valence") is None
    drome = gazetteer.find(city="Valence", postal_code="26000")
    assert drome is not None and drome.insee == "26362"
    by_department = gazetteer.find(city="Valence", department="26")
    assert by_department == drome
    assert [c.department for c in gazetteer.by_name("Valence", department="82")] == ["82"]
    assert gazetteer.find(city="Saint-Martin") is None
    # Several Sainte-Colombe: the postal code tells which.
    colombes = gazetteer.by_name("Sainte-Colombe")
    assert len(colombes) > 5
    one = colombes[0]
    found = gazetteer.find(city="Ste Colombe", postal_code=one.postal_codes[0])
    assert found == one


def test_paris_lyon_marseille_arrondissements(gazetteer: Gazetteer) -> None:
    paris = gazetteer.find(city="Paris")
    assert paris is not None and paris.insee == "75056"
    eleventh = gazetteer.find(city="Paris", postal_code="75011")
    assert eleventh is not None and eleventh.insee == "75111"
    assert gazetteer.find(postal_code="75011") == eleventh
    assert gazetteer.municipality(eleventh) == paris
    assert gazetteer.municipality(paris) == paris
    assert {c.insee for c in gazetteer.by_postal_code("75011")} == {"75056", "75111"}
    sixteenth = gazetteer.find(city="PARIS", postal_code="75116")
    assert sixteenth is not None and sixteenth.insee == "75116"
    lyon3 = gazetteer.find(city="Lyon", postal_code="69003")
    assert lyon3 is not None and lyon3.insee == "69383"
    marseille = gazetteer.find(city="Marseille", postal_code="13016")
    assert marseille is not None and marseille.insee == "13216"


def test_cedex(gazetteer: Gazetteer) -> None:
    found = gazetteer.find(city="Lille Cedex", postal_code="59046")
    assert found is not None and found.insee == "59350"
    found = gazetteer.find(city="ROUBAIX CEDEX 1", postal_code="59051")
    assert found is not None and found.insee == "59512"


def test_unknown_places(gazetteer: Gazetteer) -> None:
    assert gazetteer.find() is None
    assert gazetteer.find(city="Nowhere-sur-Rien") is None
    assert gazetteer.find(city="Nowhere-sur-Rien", postal_code="59260") is None
    assert gazetteer.find(postal_code="00000") is None
    assert gazetteer.find(city="", postal_code="") is None
    assert gazetteer.by_name("") == []


# --------------------------------------------------------------------------- loading


def _commune(insee: str, name: str, postal_codes: tuple[str, ...], dep: str) -> Commune:
    return Commune(insee, name, postal_codes, dep, 45.0, 5.0)


def test_gazetteer_from_communes() -> None:
    g = Gazetteer(
        [
            _commune("26362", "Valence", ("26000",), "26"),
            _commune("82186", "Valence", ("82400",), "82"),
            Commune("59350", "Lille", ("59000", "59260"), "59", 50.6, 3.0, ("Hellemmes-Lille",)),
        ]
    )
    assert len(g) == 3
    assert g.find(city="Valence") is None
    found = g.find(city="Valence", postal_code="82400")
    assert found is not None and found.insee == "82186"
    found = g.find(city="Hellemmes")
    assert found is not None and found.insee == "59350"


def test_load_a_file(tmp_path: Path) -> None:
    text = (
        "insee\tname\tpostal_codes\tdepartment\tlatitude\tlongitude\taliases\n"
        "59350\tLille\t59000 59160\t59\t50.63089\t3.07086\tLomme\n"
        "59512\tRoubaix\t59100\t59\t50.69000\t3.18000\t\n"
    )
    path = tmp_path / "communes.tsv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    g = Gazetteer.load(path)
    assert len(g) == 2
    assert g.by_insee("59512") == Commune("59512", "Roubaix", ("59100",), "59", 50.69, 3.18)
    lomme = g.find(city="Lomme")
    assert lomme is not None and lomme.name == "Lille"
    assert lomme.postal_codes == ("59000", "59160")


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "other.tsv.gz"
    path.write_bytes(gzip.compress(b"a\tb\n1\t2\n"))
    with pytest.raises(ValueError, match="header"):
        Gazetteer.load(path)
