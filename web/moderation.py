"""Moderation writes the admin pages need and no node service offers yet.

TEMPORARY (asked of the lead in /tmp/web-needs.txt): resolving a report belongs in a
node service (``node/services/moderation.py``) so that the API and the CLI share it.
It is kept here, small and alone, until then.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

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
