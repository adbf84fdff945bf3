"""Canonical URLs of local objects: the one place they are built.

A local object's canonical URL is also its ActivityPub ``id``; it is stored in
``ap_id`` when the object is created so that lookups by URL need no parsing.
"""

from __future__ import annotations

from dataclasses import dataclass

COLLECTIONS = {
    "person": "people",
    "organisation": "organisations",
    "event": "events",
    "project": "projects",
    "activity": "activities",
}


@dataclass(frozen=True, slots=True)
class Urls:
    base: str

    def of(self, kind: str, object_id: str) -> str:
        return f"{self.base}/{COLLECTIONS[kind]}/{object_id}"

    def person(self, object_id: str) -> str:
        return self.of("person", object_id)

    def organisation(self, object_id: str) -> str:
        return self.of("organisation", object_id)

    def event(self, object_id: str) -> str:
        return self.of("event", object_id)

    def project(self, object_id: str) -> str:
        return self.of("project", object_id)

    def activity(self, object_id: str) -> str:
        return self.of("activity", object_id)

    @property
    def node_actor(self) -> str:
        return f"{self.base}/actor"

    @property
    def host(self) -> str:
        return self.base.split("://", 1)[-1].split("/", 1)[0]
