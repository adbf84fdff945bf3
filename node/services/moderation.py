"""Moderation: the node's administrators handle reports (local or ActivityPub ``Flag``).

Shared by the admin pages, the API and the CLI, so the rules live once.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.dbtypes import utcnow
from node.errors import Forbidden, NotFound
from node.models import Person, Report


def require_node_admin(person: Person) -> None:
    if not person.is_admin:
        raise Forbidden("only the node's administrators may do this")


def resolve_report(session: Session, actor: Person, report_id: str) -> Report:
    """Mark a report resolved by this admin (idempotent)."""
    require_node_admin(actor)
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound("no such report")
    if report.state != "resolved":
        report.state = "resolved"
        report.resolved_at = utcnow()
        report.resolved_by = actor.id
    return report


def open_reports(session: Session, actor: Person, limit: int = 200) -> list[Report]:
    """The reports waiting for a decision, oldest first."""
    require_node_admin(actor)
    return list(
        session.scalars(
            select(Report)
            .where(col(Report.state) == "open")
            .order_by(col(Report.created))
            .limit(limit)
        )
    )
