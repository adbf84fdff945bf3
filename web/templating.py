"""The jinja environment: autoescaped, with a loader a node can override, and filters.

Templates are looked up first in the node's override directory (its own branding,
any page it wants to change: same file names), then in ``web/templates``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from node.sanitize import sanitize_html
from node.themes import THEMES, theme_label
from web import i18n

TEMPLATES_DIR = Path(__file__).parent / "templates"


def make_environment(translator: i18n.Translator, override: Path | None = None) -> Environment:
    loaders = [FileSystemLoader(str(override))] if override is not None else []
    loaders.append(FileSystemLoader(str(TEMPLATES_DIR)))
    environment = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=override is not None,
    )
    environment.globals.update(translator.template_callables())
    environment.filters.update(
        moment=_moment,
        day=_day,
        clock=_clock,
        span=_span,
        theme=_theme,
        km=_km,
        description=_description,
    )
    return environment


@pass_context
def _moment(context: Context, value: datetime, timezone: str | None = None) -> str:
    return i18n.format_moment(value, context["locale"], timezone)


@pass_context
def _day(context: Context, value: datetime, timezone: str | None = None) -> str:
    return i18n.format_day(value, context["locale"], timezone)


@pass_context
def _clock(context: Context, value: datetime, timezone: str | None = None) -> str:
    return i18n.format_clock(value, context["locale"], timezone)


@pass_context
def _span(context: Context, start: datetime, end: datetime, timezone: str) -> str:
    return i18n.format_span(start, end, context["locale"], timezone)


@pass_context
def _theme(context: Context, theme: str) -> str:
    return theme_label(theme, context["locale"]) if theme in THEMES else theme


@pass_context
def _km(context: Context, value: float | None) -> str:
    if value is None:
        return ""
    if value < 1:
        return f"{round(value * 1000)} m"
    shown = f"{value:.1f}"
    return (shown.replace(".", ",") if context["locale"] == "fr" else shown) + " km"


def _description(value: str) -> Markup:
    """A description as HTML, sanitised again here: remote objects' too, whatever stored them."""
    return Markup(_sanitized(value))


@lru_cache(maxsize=1024)
def _sanitized(value: str) -> str:
    """Sanitising is pure: the same description is cleaned once per process (bench/web.py)."""
    return sanitize_html(value)
