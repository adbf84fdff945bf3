"""Queries spelt against the vocabulary of the embedded backend: a prefix spelt out as
the terms it covers, and the spelling fallback (unknown words to their closest known ones).

The vocabulary (``vocab``) and its deletion neighbourhoods (``vocab_del``) are kept by the
write path (:func:`search.embedded_store.update_vocabulary`); see
:mod:`search.embedded_text` for why one indexed lookup finds every candidate.
"""

from __future__ import annotations

import json
import sqlite3

from search.embedded_text import (
    MAX_ALTERNATIVES,
    MIN_FUZZY_WORD,
    TextQuery,
    distance,
    edits,
    lookup_keys,
    match_expression,
    typos_allowed,
)

_TOP = chr(0x10FFFF)  # sorts after any text: "term >= w AND term < w || _TOP" is a prefix


#: a prefix covering at most this many terms is spelt out as them (an OR of terms the
#: full-text index walks and skips through), else left to the index (merged posting lists)
MAX_SPELT_PREFIX = 16


#: a text with more unknown words than this is not corrected
MAX_RESPELT_WORDS = 4


def expression(conn: sqlite3.Connection, text: TextQuery) -> str:
    """The FTS5 expression of the text, its prefix (last word) spelt out when it is short."""
    groups: list[list[tuple[str, bool]]] = [
        [(w, text.is_prefix(i))] for i, w in enumerate(text.words)
    ]
    if text.prefix_last:
        word = text.words[-1]
        covered = [
            term
            for (term,) in conn.execute(
                "SELECT term FROM vocab WHERE term >= ? AND term < ? ORDER BY term LIMIT ?",
                (word, word + _TOP, MAX_SPELT_PREFIX + 1),
            )
        ]
        if 0 < len(covered) <= MAX_SPELT_PREFIX:
            groups[-1] = [(term, False) for term in covered]
    return match_expression(groups)


def respell(conn: sqlite3.Connection, text: TextQuery) -> str | None:
    """The text's FTS5 expression with each unknown word replaced by its closest known
    words; ``None`` when nothing changes or a word has no close match."""
    groups: list[list[tuple[str, bool]]] = []
    corrected: dict[tuple[str, bool], list[tuple[str, bool]]] = {}
    for index, word in enumerate(text.words):
        prefix = text.is_prefix(index)
        if (word, prefix) in corrected:
            groups.append(corrected[word, prefix])
        elif _known(conn, word, prefix):
            groups.append([(word, prefix)])
        elif len(corrected) == MAX_RESPELT_WORDS:
            return None  # too many unknown words: no reading of them is likely
        else:
            alternatives = corrected[word, prefix] = _alternatives(conn, word, prefix)
            if not alternatives:
                return None
            groups.append(alternatives)
    return match_expression(groups) if corrected else None


def _known(conn: sqlite3.Connection, word: str, prefix: bool) -> bool:
    if prefix:
        sql = "SELECT 1 FROM vocab WHERE term >= ? AND term < ? LIMIT 1"
        return conn.execute(sql, (word, word + _TOP)).fetchone() is not None
    return conn.execute("SELECT 1 FROM vocab WHERE term = ?", (word,)).fetchone() is not None


def _alternatives(conn: sqlite3.Connection, word: str, prefix: bool) -> list[tuple[str, bool]]:
    """The closest vocabulary words (FTS alternatives) within the typos allowed."""
    allowed = typos_allowed(word)
    if allowed == 0:
        return []
    ranked: list[tuple[int, bool, int, str]] = []
    rows = conn.execute(
        "SELECT DISTINCT v.term, v.n FROM vocab_del AS x CROSS JOIN vocab AS v"
        " ON v.term = x.term WHERE x.key IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(lookup_keys(word, allowed))),),
    )
    for term, n in rows:
        typos = distance(word, term, allowed)
        if typos <= allowed:
            ranked.append((typos, False, -n, term))
    if prefix:  # one typo in what has been typed so far
        starts = sorted(v for v in edits(word) if len(v) >= MIN_FUZZY_WORD)
        for (variant,) in conn.execute(
            "SELECT s.value FROM json_each(?) AS s WHERE EXISTS (SELECT 1 FROM vocab"
            " WHERE term >= s.value AND term < s.value || ?)",
            (json.dumps(starts), _TOP),
        ):
            ranked.append((1, True, 0, variant))
    if not ranked:
        return []
    best = min(ranked)[:2]  # fewest typos; whole words before prefixes
    chosen = sorted(r for r in ranked if r[:2] == best)[:MAX_ALTERNATIVES]
    return [(term, prefix) for _, _, _, term in chosen]
