"""A request as both signature schemes see it: method, URL and header field lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit, urlunsplit

from federation.signatures_errors import MalformedSignature

__all__ = ["SignedRequest", "header_lines"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def header_lines(headers: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Field lines by lower-case name; repeated fields (httpx, Starlette) are kept apart."""
    multi_items = getattr(headers, "multi_items", None)
    pairs: Iterable[tuple[str, str]] = multi_items() if callable(multi_items) else headers.items()
    lines: dict[str, list[str]] = {}
    for name, value in pairs:
        lines.setdefault(name.lower(), []).append(value)
    return {name: tuple(values) for name, values in lines.items()}


@dataclass(frozen=True)
class SignedRequest:
    """``url`` is the URL the peer addressed (scheme, host, raw path and query)."""

    method: str
    url: str
    lines: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, method: str, url: str, headers: Mapping[str, str]) -> SignedRequest:
        return cls(method, url, header_lines(headers))

    def field(self, name: str) -> str | None:
        """The canonical value: each line trimmed, lines joined with ``, ``."""
        values = self.lines.get(name.lower())
        if values is None:
            return None
        return ", ".join(value.strip(" \t") for value in values)

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.lower()

    @property
    def authority(self) -> str:
        """Host (lower case, IPv6 in brackets) and port unless it is the scheme's default."""
        parts = urlsplit(self.url)
        host = (parts.hostname or "").lower()
        if ":" in host:
            host = f"[{host}]"
        try:
            port = parts.port
        except ValueError as exc:
            raise MalformedSignature(f"bad port in {self.url!r}") from exc
        if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()):
            return host
        return f"{host}:{port}"

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> str:
        """The query string without ``?`` (empty when there is none)."""
        return urlsplit(self.url).query

    @property
    def request_target(self) -> str:
        """Origin form: the path with its query string."""
        query = self.query
        return f"{self.path}?{query}" if query else self.path

    def without_query(self) -> SignedRequest:
        scheme, netloc, path, _, _ = urlsplit(self.url)
        return replace(self, url=urlunsplit((scheme, netloc, path, "", "")))
