"""How the web pages join a node (entry point ``maillon.plugins``: see node/plugins.py).

Registered after federation and search (name order): the pages come after
federation's root routes, and the search service is already in
``runtime.extensions["search"]``.
"""

from __future__ import annotations

import os

from fastapi import APIRouter
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from node.runtime import Runtime
from web.app import STATIC_DIR, Web
from web.errors import HtmlErrors
from web.pages import FIRST, ROUTERS
from web.sessions import PageSessions

STATIC_MAX_AGE = 7 * 24 * 3600


def register(runtime: Runtime) -> None:
    """The pages at the root, ``/static``, sessions and the HTML 404 page."""
    web = Web(runtime)
    runtime.extensions["web"] = web
    runtime.pages.append(static_router(web))
    runtime.first_pages.extend(FIRST)
    runtime.pages.extend(ROUTERS)
    # innermost first: the 404 page goes out through the session middleware (its cookie)
    runtime.middleware.append((HtmlErrors, {}))
    options = {"secret_key": runtime.settings.secret_key, "https_only": web.secure_cookies}
    runtime.middleware.append((PageSessions, options))


class NodeStatic(StaticFiles):
    """``/static``: the node's override ``static/`` first, then ``web/static``.

    URLs made by ``Web.asset`` carry a content hash, so browsers may cache them long.
    """

    def __init__(self, web: Web) -> None:
        self.web = web
        super().__init__(directory=None, packages=None, check_dir=False)

    @property
    def all_directories(self) -> list[PathLike]:
        override = self.web.override_dir
        return [override / "static", STATIC_DIR] if override is not None else [STATIC_DIR]

    @all_directories.setter
    def all_directories(self, value: list[PathLike]) -> None:
        """Set by ``StaticFiles.__init__``; the directories follow the node instead."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.setdefault("Cache-Control", f"public, max-age={STATIC_MAX_AGE}")
        return response


def static_router(web: Web) -> APIRouter:
    router = APIRouter()
    router.mount("/static", NodeStatic(web), name="static")
    return router
