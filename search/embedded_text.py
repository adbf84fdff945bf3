"""Text helpers of the embedded search backend: words, FTS5 queries, spelling fallback.

The words are cut and folded like SQLite's ``unicode61 remove_diacritics 2`` tokenizer
does (letters and digits, accents and case removed), so that a query never carries FTS5
syntax: each word is emitted as a quoted string, the last one as a prefix.

The spelling fallback works on a vocabulary kept beside the full-text index: ``vocab``
(every term with the number of documents holding it) and ``vocab_del`` (each term's
*deletion neighbourhood*: the term and every string made by removing one letter). Two
words within one edit (substitution, insertion, deletion, transposition) always share a
key of their neighbourhoods, so the candidates for a misspelt word come from one indexed
lookup, then are checked with the exact distance (restricted Damerau–Levenshtein, a
transposition counts as one edit). Within two edits, the keys are the neighbourhoods of
every one-edit variant of the word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

#: combining marks removed after canonical decomposition ("é" -> "e" + U+0301 -> "e")
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
#: a word: letters and digits (unicode61 separates on everything else)
_WORD = re.compile(r"[^\W_]+")
#: letters tried when generating insertions and substitutions
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
#: terms longer than this are indexed for search but not for typo tolerance
MAX_FUZZY_TERM = 32
#: words shorter than this are never corrected (too many neighbours)
MIN_FUZZY_WORD = 3
#: words of this length or more may hold two typos
TWO_TYPOS_FROM = 8
#: a query uses at most this many words
MAX_WORDS = 32
#: alternatives kept for one misspelt word
MAX_ALTERNATIVES = 8


def fold(text: str) -> str:
    """Lower case without accents (canonical decomposition, combining marks removed)."""
    return _MARKS.sub("", unicodedata.normalize("NFD", text)).lower()


def words(text: str) -> list[str]:
    """The folded words of a text, in order (duplicates kept)."""
    return _WORD.findall(fold(text))


def fuzzy_indexable(term: str) -> bool:
    return MIN_FUZZY_WORD - 1 <= len(term) <= MAX_FUZZY_TERM and not term.isdigit()


def typos_allowed(word: str) -> int:
    """How many edits a query word may hold (numbers are never corrected)."""
    if len(word) < MIN_FUZZY_WORD or word.isdigit() or len(word) > MAX_FUZZY_TERM + 2:
        return 0
    return 2 if len(word) >= TWO_TYPOS_FROM else 1


def quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class TextQuery:
    """The words of a query; the last one is a prefix unless the text ends with a space."""

    words: tuple[str, ...]
    prefix_last: bool

    @classmethod
    def parse(cls, text: str) -> TextQuery:
        found = words(text)[:MAX_WORDS]
        return cls(tuple(found), bool(found) and not text[-1:].isspace())

    def is_prefix(self, index: int) -> bool:
        return self.prefix_last and index == len(self.words) - 1

    def match(self) -> str:
        """The FTS5 expression: every word must match."""
        return match_expression([[(w, self.is_prefix(i))] for i, w in enumerate(self.words)])


def match_expression(groups: Sequence[Sequence[tuple[str, bool]]]) -> str:
    """AND of groups, each an OR of (word, is_prefix) alternatives."""
    parts = []
    for group in groups:
        alternatives = list(dict.fromkeys(quote(w) + ("*" if p else "") for w, p in group))
        parts.append(
            alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
        )
    return " AND ".join(parts)  # explicit: FTS5 has no implicit AND beside parentheses


def deletions(word: str) -> set[str]:
    """The word and every string made by deleting one of its letters."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def edits(word: str) -> set[str]:
    """Every string one edit away (deletion, transposition, substitution, insertion)."""
    letters = ALPHABET + "".join(sorted(set(word) - set(ALPHABET)))
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out.update(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1)
    out.update(a + c + b[1:] for a, b in splits if b for c in letters)
    out.update(a + c + b for a, b in splits for c in letters)
    out.discard(word)
    return out


def lookup_keys(word: str, max_edits: int) -> set[str]:
    """Keys of ``vocab_del`` shared by every term within ``max_edits`` of ``word``."""
    keys = deletions(word)
    if max_edits >= 2:
        for variant in edits(word):
            keys.update(deletions(variant))
    return keys


def distance(a: str, b: str, limit: int) -> int:
    """Restricted Damerau–Levenshtein distance, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return min(previous[-1], limit + 1)
