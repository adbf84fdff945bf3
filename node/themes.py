"""The fixed list of themes (translated) and the normalisation of free tags."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

#: theme id → (French label, English label). The ids are stable; the labels are UI text.
THEMES: Final[dict[str, tuple[str, str]]] = {
    "food": ("Alimentation", "Food"),
    "culture": ("Culture", "Culture"),
    "social-economy": ("Économie sociale et solidaire", "Social and solidarity economy"),
    "education": ("Éducation", "Education"),
    "employment": ("Emploi", "Employment"),
    "energy": ("Énergie", "Energy"),
    "environment": ("Environnement", "Environment"),
    "housing": ("Habitat", "Housing"),
    "mobility": ("Mobilité", "Mobility"),
    "digital": ("Numérique", "Digital"),
    "health": ("Santé", "Health"),
    "solidarity": ("Solidarité", "Solidarity"),
    "sport": ("Sport", "Sport"),
    "citizenship": ("Citoyenneté", "Citizenship"),
    "crafts": ("Artisanat", "Crafts"),
    "sharing": ("Mutualisation", "Sharing"),
}

TAG_MAX_LENGTH: Final = 40
_NOT_TAG = re.compile(r"[^a-z0-9]+")


def theme_label(theme: str, language: str = "fr") -> str:
    """The label of a theme id in a UI language (French by default)."""
    french, english = THEMES[theme]
    return english if language == "en" else french


def normalise_tag(raw: str) -> str:
    """Fold a free tag to its canonical form: ``#Vélo Cargo`` → ``velo-cargo``.

    Case and accents are folded, a leading ``#`` dropped, runs of other characters become
    one hyphen. Returns ``""`` when nothing is left.
    """
    lowered = raw.strip().lstrip("#").lower()
    lowered = lowered.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", lowered)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_TAG.sub("-", ascii_only).strip("-")[:TAG_MAX_LENGTH].strip("-")


def normalise_tags(raw: list[str]) -> list[str]:
    """Normalise, drop empties and duplicates, keep first-seen order."""
    seen: dict[str, None] = {}
    for tag in raw:
        folded = normalise_tag(tag)
        if folded:
            seen.setdefault(folded, None)
    return list(seen)
