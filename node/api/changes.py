"""The changes feed: every public create, update and delete, in order."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.api import deps
from node.api.representations import events_out, organisations_out, person_out, projects_out
from node.models import Activity, Event, Organisation, Person, Project, Stored

router = APIRouter(tags=["sync"])


class Change(BaseModel):
    cursor: str
    type: str
    object_type: str
    object_id: str
    object_url: str
    actor: str
    published: datetime
    object: dict[str, Any] | None


class ChangesOut(BaseModel):
    items: list[Change]
    next: str


_MODELS: dict[str, type[Stored]] = {
    "organisation": Organisation,
    "event": Event,
    "project": Project,
    "person": Person,
}


@router.get("/changes", response_model=ChangesOut)
def changes(
    request: Request,
    since: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="the `next` of the previous answer")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ChangesOut:
    """Public changes after `since`, oldest first, with each object's current state.

    Poll with the returned `next`; `object` is null when the object is deleted or private.
    """
    node = deps.runtime(request)
    with node.transaction() as session:
        activities = list(
            session.scalars(
                select(Activity)
                .where(col(Activity.seq) > since, col(Activity.public).is_(True))
                .order_by(col(Activity.seq))
                .limit(limit)
            )
        )
        objects = _current(session, activities)
    items = [
        Change(
            cursor=str(a.seq),
            type=a.type,
            object_type=a.object_type,
            object_id=a.object_id,
            object_url=a.object_url,
            actor=a.actor,
            published=a.created,
            object=objects.get((a.object_type, a.object_id)),
        )
        for a in activities
    ]
    return ChangesOut(items=items, next=str(activities[-1].seq if activities else since))


def _current(session: Session, activities: list[Activity]) -> dict[tuple[str, str], dict[str, Any]]:
    wanted: dict[str, set[str]] = {}
    for a in activities:
        wanted.setdefault(a.object_type, set()).add(a.object_id)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, ids in wanted.items():
        model = _MODELS.get(kind)
        if model is None:
            continue
        rows = list(
            session.scalars(
                select(model).where(
                    col(model.id).in_(ids), col(model.deleted_at).is_(None)
                )
            )
        )
        outs: list[Any]
        if kind == "organisation":
            outs = organisations_out(session, rows)  # type: ignore[arg-type]
        elif kind == "event":
            outs = events_out(session, rows)  # type: ignore[arg-type]
        elif kind == "project":
            outs = projects_out(session, rows)  # type: ignore[arg-type]
        else:
            outs = [person_out(p) for p in rows if isinstance(p, Person) and p.public_profile]
        for out in outs:
            found[(kind, out.id)] = out.model_dump(mode="json")
    return found
