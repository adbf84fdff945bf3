"""WebFinger and NodeInfo: how peers find our actors and learn what we run.

WebFinger answers ``acct:name@host`` (or an actor URL) for every followable actor —
organisations, projects, people, and the node's actor as ``relay@host`` (Mobilizon
looks for it). The subject is always ``acct:<preferredUsername>@<host>`` so the reverse
check Mastodon makes resolves to the same actor. NodeInfo lists 2.0 and 2.1 first, then
the FEP-2677 link to the instance actor.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func
from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation.documents import project_username
from federation.routes import node_name
from node.models import Event, Organisation, Person, Project
from node.runtime import Runtime
from node.urls import Urls

router = APIRouter(include_in_schema=False)
NODE_USERNAME = "relay"
AP_JSON = "application/activity+json"
INSTANCE_ACTOR_REL = "https://www.w3.org/ns/activitystreams#Application"  # FEP-2677
NODEINFO_SCHEMAS = {
    "2.0": "http://nodeinfo.diaspora.software/ns/schema/2.0",
    "2.1": "http://nodeinfo.diaspora.software/ns/schema/2.1",
}


def software_version() -> str:
    try:
        return version("maillon")
    except PackageNotFoundError:
        return "0"


def _resolve(session: Session, urls: Urls, resource: str) -> tuple[str, str] | None:
    """``(username, actor url)`` of the local actor a resource names."""
    host = urls.host.lower()
    if resource.startswith("acct:"):
        name, _, at = resource[5:].lstrip("@").rpartition("@")
        if at.lower() != host or not name:
            return None
        if name in (NODE_USERNAME, host):
            return NODE_USERNAME, urls.node_actor
        org = session.scalar(
            select(Organisation).where(
                col(Organisation.username) == name,
                col(Organisation.origin).is_(None),
                col(Organisation.deleted_at).is_(None),
            )
        )
        if org is not None:
            return org.username, org.ap_id
        if name.startswith("project-"):
            project = session.get(Project, name.removeprefix("project-"))
            if project is not None and project.is_local and project.deleted_at is None:
                return name, project.ap_id
        person = session.scalar(
            select(Person).where(
                col(Person.username) == name,
                col(Person.origin).is_(None),
                col(Person.deleted_at).is_(None),
            )
        )
        return (person.username, person.ap_id) if person is not None else None
    if resource == urls.node_actor:
        return NODE_USERNAME, urls.node_actor
    for model in (Organisation, Project, Person):
        row: Any = session.scalar(select(model).where(col(model.ap_id) == resource))
        if row is not None and row.is_local and row.deleted_at is None:
            name = project_username(row) if isinstance(row, Project) else row.username
            return name, row.ap_id
    return None


@router.get("/.well-known/webfinger")
def webfinger(request: Request, resource: str = "") -> Response:
    runtime: Runtime = request.app.state.runtime
    if not resource:
        return JSONResponse(
            {"error": {"code": "bad_request", "message": "resource is required"}}, 400
        )
    with runtime.transaction() as session:
        found = _resolve(session, runtime.urls, resource.strip())
    if found is None:
        return JSONResponse({"error": {"code": "not_found", "message": "no such actor"}}, 404)
    username, actor = found
    return JSONResponse(
        {
            "subject": f"acct:{username}@{runtime.urls.host}",
            "aliases": [actor],
            "links": [
                {"rel": "self", "type": AP_JSON, "href": actor},
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                 "href": actor},
            ],
        },
        media_type="application/jrd+json",
        headers={"Access-Control-Allow-Origin": "*"},
    )


@router.get("/.well-known/nodeinfo")
def nodeinfo_links(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    base = runtime.urls.base
    links = [
        {"rel": schema, "href": f"{base}/nodeinfo/{number}"}
        for number, schema in NODEINFO_SCHEMAS.items()
    ]
    links.append({"rel": INSTANCE_ACTOR_REL, "href": runtime.urls.node_actor})
    return JSONResponse({"links": links})


@router.get("/nodeinfo/{number}")
def nodeinfo(number: str, request: Request) -> Response:
    if number not in NODEINFO_SCHEMAS:
        return JSONResponse({"error": {"code": "not_found", "message": "2.0 or 2.1"}}, 404)
    runtime: Runtime = request.app.state.runtime
    with runtime.transaction() as session:
        people = session.scalar(
            select(func.count()).where(
                col(Person.origin).is_(None), col(Person.deleted_at).is_(None)
            )
        )
        events = session.scalar(
            select(func.count()).where(col(Event.origin).is_(None), col(Event.deleted_at).is_(None))
        )
        name = node_name(session)
    software: dict[str, str] = {"name": "maillon", "version": software_version()}
    document = {
        "version": number,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": True,
        "usage": {"users": {"total": int(people or 0)}, "localPosts": int(events or 0)},
        "metadata": {"nodeName": name},
    }
    return JSONResponse(
        document,
        media_type=f'application/json; profile="{NODEINFO_SCHEMAS[number]}#"',
    )
