"""The web front of a node: templates, catalogues, assets and rendering, built once.

One :class:`Web` per runtime (``runtime.extensions["web"]``), made by ``web.plugin``.
The jinja environment is built on first use, so a node may set the template override
directory (``MAILLON_WEB_TEMPLATES``, or ``runtime.extensions["web_templates"]`` set
after the plugins registered, as tests do).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from node.api.territory import logo_url
from node.runtime import Runtime
from node.services import territory as territory_service
from node.themes import THEMES, theme_label
from web import i18n
from web.sessions import LazyToken, derived_key, session_of
from web.templating import make_environment

STATIC_DIR = Path(__file__).parent / "static"
#: How long a process shows the territory and branding it read before reading them
#: again: what another process's change may wait (one in this one shows at once).
TERRITORY_TTL = 5.0


@dataclass(frozen=True, slots=True)
class TerritoryView:
    """The territory and branding every page shows (read once per ``TERRITORY_TTL``)."""

    name: str
    timezone: str
    bbox: tuple[float, float, float, float] | None  # min lat, min lon, max lat, max lon
    #: the node's name in its pages (the territory's by default)
    display_name: str = "Maillon"
    #: the name the node's administrators gave it, if they did
    node_name: str | None = None
    primary_colour: str | None = None
    accent_colour: str | None = None
    logo_url: str | None = None
    #: the pages' language when the visitor asks for none of ours (``MAILLON_LANGUAGE``
    #: until the administrators choose one at /admin/settings)
    default_language: str = "fr"


class Web:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.translator = i18n.Translator(i18n.load_catalogues())
        self._environment: Environment | None = None
        self._lock = threading.Lock()
        self._asset_versions: dict[str, str] = {}
        #: (read at, territory generation then, the view)
        self._territory: tuple[float, int, TerritoryView] | None = None
        #: what the language switch carries for visitors without a session: the switch
        #: changes nothing but their cookie, and reading a page makes no session
        self.language_token = derived_key(runtime.settings.secret_key, "language switch")[:32]

    # --- configuration -------------------------------------------------------------

    @property
    def override_dir(self) -> Path | None:
        """Templates (and ``static/``) that replace the shipped ones (node branding)."""
        value = self.runtime.extensions.get("web_templates") or self.runtime.settings.web_templates
        return Path(value) if value else None

    @property
    def tile_url(self) -> str:
        return str(self.runtime.extensions.get("web_tile_url") or self.runtime.settings.tile_url)

    @property
    def secure_cookies(self) -> bool:
        return self.runtime.settings.public_url.startswith("https://")

    @property
    def environment(self) -> Environment:
        if self._environment is None:
            with self._lock:
                if self._environment is None:
                    self._environment = make_environment(self.translator, self.override_dir)
        return self._environment

    # --- per request ---------------------------------------------------------------

    def language(self, request: Request) -> str:
        """The request's language (see :func:`web.i18n.negotiate`), computed once."""
        found: str | None = getattr(request.state, "locale", None)
        if found is None:
            viewer = getattr(request.state, "viewer", None)
            found = i18n.negotiate(
                request.cookies.get(i18n.COOKIE),
                viewer.locale if viewer is not None else None,
                request.headers.get("accept-language", ""),
                self.territory().default_language,
            )
            request.state.locale = found
        return found

    def gettext(self, request: Request, message: str, **variables: Any) -> str:
        return self.translator.gettext(self.language(request), message, **variables)

    def translate(self, request: Request) -> Callable[..., str]:
        """``gettext`` in the request's language (for form errors)."""
        return partial(self.translator.gettext, self.language(request))

    def territory(self) -> TerritoryView:
        """The territory and branding, without a query on most pages: read again when a
        change committed in this process (the service's generation moved) or after
        ``TERRITORY_TTL`` seconds (a change made by another process)."""
        now = time.monotonic()
        generation = territory_service.generation()
        cached = self._territory
        if cached is None or cached[1] != generation or now - cached[0] > TERRITORY_TTL:
            cached = (now, generation, self._read_territory())
            self._territory = cached
        return cached[2]

    def _read_territory(self) -> TerritoryView:
        with self.runtime.transaction() as session:
            found = territory_service.current(session)
            if found is None:
                settings = self.runtime.settings
                return TerritoryView(
                    "Maillon", settings.timezone, None, default_language=settings.language
                )
            return TerritoryView(
                name=found.name,
                timezone=found.timezone,
                bbox=territory_service.bbox_of(found),
                display_name=found.node_name or found.name,
                node_name=found.node_name,
                primary_colour=found.primary_colour,
                accent_colour=found.accent_colour,
                logo_url=logo_url(found.logo_sha256),
                default_language=found.default_language,
            )

    def forget_territory(self) -> None:
        self._territory = None

    def asset(self, path: str) -> str:
        """The URL of a static file, with a content hash so that browsers cache it long."""
        version = self._asset_versions.get(path)
        if version is None:
            file = self._static_file(path)
            version = hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file else "0"
            self._asset_versions[path] = version
        return f"/static/{path}?v={version}"

    def _static_file(self, path: str) -> Path | None:
        roots = [STATIC_DIR]
        if self.override_dir is not None:
            roots.insert(0, self.override_dir / "static")
        for root in roots:
            candidate = (root / path).resolve()
            if candidate.is_file() and candidate.is_relative_to(root.resolve()):
                return candidate
        return None

    def context(self, request: Request) -> dict[str, Any]:
        """What every page's layout needs."""
        language = self.language(request)
        return {
            "request": request,
            "locale": language,
            "languages": [(code, i18n.NAMES[code]) for code in i18n.LANGUAGES],
            "viewer": getattr(request.state, "viewer", None),
            "csrf_token": LazyToken(request),
            "language_token": self.language_token,
            "flash": session_of(request).pop("flash", None),
            "territory": self.territory(),
            "asset": self.asset,
            "themes": [(key, theme_label(key, language)) for key in THEMES],
            "current_path": _current_path(request),
            "tile_url": self.tile_url,
            "tile_attribution": self.runtime.settings.tile_attribution,
        }

    def render(
        self,
        request: Request,
        template: str,
        values: dict[str, Any] | None = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        context = self.context(request)
        context.update(values or {})
        html = self.environment.get_template(template).render(context)
        response = HTMLResponse(html, status_code=status, headers=headers)
        response.headers.setdefault("Content-Language", context["locale"])
        return response


def flash(request: Request, message: str) -> None:
    """A one-line notice shown on the next page (after a redirect)."""
    session_of(request)["flash"] = message


def _current_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
