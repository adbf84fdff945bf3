"""What a search backend does (embedded SQLite, Meilisearch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from search.query import SearchQuery, SearchResult

Document = dict[str, Any]


class SearchBackend(Protocol):
    def setup(self) -> None:
        """Create the index and apply its settings; idempotent, run at start."""

    def upsert(self, documents: Sequence[Document]) -> None:
        """Add or replace documents (by ``id``); visible to ``search`` on return."""

    def delete(self, ids: Sequence[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Answer a query (``took_ms`` measured by the backend)."""

    def versions(self) -> dict[str, int]:
        """Every document id with its ``version`` (for ``reindex --check``)."""

    def clear(self) -> None:
        """Remove every document (keeps the settings)."""

    def close(self) -> None:
        """Release connections and files."""


class SearchUnavailable(Exception):
    """The engine cannot be reached or refused the request; the caller retries later."""
