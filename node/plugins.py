"""Plugins: how the higher layers (search, federation) join a node.

``node`` imports neither ``search`` nor ``federation`` (layers import one way), so they
declare an entry point in the ``maillon.plugins`` group naming a module (or object)
with any of these hooks:

- ``register(runtime)``: add job handlers to ``runtime.registry`` and API routers to
  ``runtime.routers`` (mounted under ``/api/v1`` by ``create_app``) and root routers
  (ActivityPub endpoints, HTML pages) to ``runtime.pages``;
- ``add_commands(commands)``: add ``maillon`` sub-commands to the argparse
  sub-parsers; each sub-parser sets ``handler`` to a function ``(args, runtime) -> int``.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

GROUP = "maillon.plugins"


@cache
def installed() -> tuple[Any, ...]:
    """The loaded plugin objects, in entry-point name order."""
    found = sorted(entry_points(group=GROUP), key=lambda entry: entry.name)
    return tuple(entry.load() for entry in found)
