"""Filters and keyset pagination shared by the list endpoints."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlmodel import col

from node.models import Label


def labelled(entity_type: str, kind: str, values: list[str]) -> Any:
    """Ids of the objects carrying any of these themes or tags."""
    return select(col(Label.entity_id)).where(
        col(Label.entity_type) == entity_type,
        col(Label.kind) == kind,
        col(Label.value).in_(values),
    )


def after(columns: list[Any], values: list[Any], descending: bool) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``columns`` (keyset pagination)."""
    first, second = columns
    v1, v2 = values
    if descending:
        return or_(first < v1, and_(first == v1, second < v2))
    return or_(first > v1, and_(first == v1, second > v2))


def ordered(query: Select[Any], columns: list[Any], descending: bool) -> Select[Any]:
    return query.order_by(*[c.desc() if descending else c.asc() for c in columns])
