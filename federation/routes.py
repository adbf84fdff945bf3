"""What peers read and where they write: actors, objects, collections, inboxes.

Canonical object URLs reach these routes through :mod:`federation.negotiation` (under
``/_ap``); actors and documents are served unsigned (a key fetch must never need a
signature, or two careful servers wait for each other forever).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation import collections, inbox
from federation.documents import MODELS, node_actor, object_document, render
from federation.negotiation import INTERNAL_PREFIX
from node.models import Activity, Organisation, Person, Project, Stored, Territory
from node.runtime import Runtime
from node.urls import COLLECTIONS as COLLECTION_PATHS

AP_JSON = "application/activity+json"
router = APIRouter(include_in_schema=False)
ACTORS = ("organisations", "projects", "people")
KINDS = {path: kind for kind, path in COLLECTION_PATHS.items()}  # "events" → "event"
COLLECTIONS = ("outbox", "followers", "following", "upcoming-events")


def activity_json(document: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(document, status_code=status, media_type=AP_JSON)


def not_found(message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "not_found", "message": message}}, status_code=404)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def node_name(session: Session) -> str:
    territory = session.scalar(select(Territory).order_by(col(Territory.created)))
    return f"Maillon — {territory.name}" if territory else "Maillon"


def _local(session: Session, collection: str, object_id: str) -> Stored | None:
    model = MODELS.get(KINDS.get(collection, ""))
    row = session.get(model, object_id) if model else None
    return row if row is not None and row.is_local else None


@router.get(INTERNAL_PREFIX + "/activities/{activity_id}")
def get_activity(activity_id: str, request: Request) -> Response:
    runtime = _runtime(request)
    with runtime.transaction() as session:
        row = session.scalar(select(Activity).where(col(Activity.id) == activity_id))
        if row is None or not row.public:
            return not_found("no such activity")
        document = render(session, runtime.urls, runtime.settings.secret_key, row)
    return activity_json(document) if document else not_found("no such activity")


@router.get(INTERNAL_PREFIX + "/{collection}/{object_id}")
def get_object(collection: str, object_id: str, request: Request) -> Response:
    runtime = _runtime(request)
    with runtime.transaction() as session:
        row = _local(session, collection, object_id)
        if row is None:
            return not_found(f"no {collection}/{object_id} here")
        document = object_document(session, runtime.urls, runtime.settings.secret_key, row)
    return activity_json(document, 410 if row.deleted_at is not None else 200)


@router.get("/actor")
def get_node_actor(request: Request) -> Response:
    runtime = _runtime(request)
    with runtime.transaction() as session:
        document = node_actor(
            session, runtime.urls, runtime.settings.secret_key, node_name(session)
        )
    return activity_json(document)


async def post_inbox(request: Request) -> Response:
    return await inbox.receive(request)


#: the inboxes, apart: what peers POST to most, tried before the other routes
inbox_router = APIRouter(include_in_schema=False)
for _path in ("/inbox", "/actor/inbox", *(f"/{c}/{{object_id}}/inbox" for c in ACTORS)):
    inbox_router.add_api_route(_path, post_inbox, methods=["POST"])


def _paged(request: Request) -> tuple[bool, int | None]:
    before = request.query_params.get("before")
    if before is not None:
        try:
            return True, int(before)
        except ValueError:
            return True, None
    return "page" in request.query_params, None


@router.get("/actor/{name}")
def node_collection(name: str, request: Request) -> Response:
    runtime = _runtime(request)
    url = f"{runtime.urls.node_actor}/{name}"
    paged, before = _paged(request)
    secret = runtime.settings.secret_key
    with runtime.transaction() as session:
        if name == "outbox":
            document = collections.outbox(
                session, runtime.urls, secret, url, None, before, paged
            )
        elif name == "followers":
            document = collections.followers(session, url, runtime.urls.node_actor, None, paged)
        elif name == "following":
            document = collections.following(session, url, True, paged)
        else:
            return not_found("no such collection")
    return activity_json(document)


def actor_collection(object_id: str, request: Request) -> Response:
    collection, _, name = request.url.path.strip("/").split("/")
    runtime = _runtime(request)
    paged, before = _paged(request)
    secret = runtime.settings.secret_key
    with runtime.transaction() as session:
        row = _local(session, collection, object_id)
        if row is None or row.deleted_at is not None:
            return not_found(f"no {collection}/{object_id} here")
        url = f"{row.ap_id}/{name}"
        organisation_id = row.id if isinstance(row, Organisation) else None
        if name == "outbox":
            document = collections.outbox(
                session, runtime.urls, secret, url, row.ap_id, before, paged
            )
        elif name == "followers":
            document = collections.followers(session, url, row.ap_id, organisation_id, paged)
        elif name == "following":
            person_id = row.id if isinstance(row, Person) else None
            document = collections.following(session, url, False, paged, person_id)
        elif organisation_id is not None or isinstance(row, Project):
            document = collections.upcoming_events(session, url, row.id, paged)
        else:
            return not_found("no such collection")
    return activity_json(document)


for _collection in ACTORS:
    for _name in COLLECTIONS:
        router.add_api_route(f"/{_collection}/{{object_id}}/{_name}", actor_collection)
