"""The export of one sprint: people with roles and organisations, pledges,
the waitlist with positions and the allocation log (from the audit log).

CSV cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) are neutralised with a
leading apostrophe (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.sprints import money
from bot.sprints.common import find_sprint
from bot.sprints.offers import line
from storage.models import AuditEntry, Organisation, Person, SprintPledge, SprintSignup

COLUMNS = ("section", "name", "email", "organisation", "role", "status", "seat", "position",
           "currency", "amount", "at", "action", "reason")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """``value`` as a CSV cell that cannot start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def export_sprint(session: Session, raw_id: str | int) -> dict[str, Any]:
    """The sprint as a JSON-ready dict: ``sprint``, ``people``, ``pledges``,
    ``totals`` (per currency, as decimal strings), ``waitlist``, ``log``.
    Raises NotFound."""
    sprint = find_sprint(session, raw_id)
    orgs = {o.id: o.name for o in session.scalars(select(Organisation)).all()}

    def who(pid: int) -> tuple[str, str]:
        p = session.get(Person, pid)
        return (p.name, p.primary_email or "") if p else ("?", "")

    people = []
    for s in session.scalars(select(SprintSignup).where(SprintSignup.sprint_id == sprint.id)
                             .order_by(SprintSignup.id)).all():
        name, email = who(s.person_id)
        people.append({"name": name, "email": email, "organisation":
                       orgs.get(s.organisation_id or 0, ""), "role": s.role,
                       "status": s.status, "seat": s.seat,
                       "asked_at": s.asked_at.isoformat()})
    waitlist = []
    for n, s in enumerate(line(session, sprint.id), 1):
        name, email = who(s.person_id)
        waitlist.append({"position": n, "name": name, "email": email,
                         "organisation": orgs.get(s.organisation_id or 0, ""),
                         "priority": s.priority, "asked_at": s.asked_at.isoformat()})
    pledges = []
    for p in session.scalars(select(SprintPledge).where(SprintPledge.sprint_id == sprint.id)
                             .order_by(SprintPledge.id)).all():
        name, email = who(p.person_id)
        pledges.append({"name": name, "email": email,
                        "organisation": orgs.get(p.organisation_id or 0, ""),
                        "currency": p.currency, "status": p.status,
                        "amount": str(money.from_minor(p.amount_minor, p.currency))})
    totals = money.totals((p.currency, p.amount_minor) for p in session.scalars(
        select(SprintPledge).where(SprintPledge.sprint_id == sprint.id,
                                   SprintPledge.status == "active")).all())
    log = [{"at": a.at.isoformat(), "action": a.action, "channel": a.channel,
            "reason": str((a.detail or {}).get("reason", ""))}
           for a in session.scalars(select(AuditEntry).where(
               AuditEntry.subject_type == "sprint", AuditEntry.subject_id == str(sprint.id))
               .order_by(AuditEntry.id)).all()]
    return {"sprint": {"id": sprint.id, "title": sprint.title, "state": sprint.state,
                       "capacity": sprint.capacity, "org_cap": sprint.org_cap,
                       "topics": list(sprint.topics), "currency": sprint.currency,
                       "minimum": str(money.from_minor(sprint.minimum_minor, sprint.currency))
                       if sprint.currency else "", "funding_state": sprint.funding_state},
            "people": people, "pledges": pledges,
            "totals": {c: str(money.from_minor(m, c)) for c, m in totals.items()},
            "waitlist": waitlist, "log": log}


def to_json(data: dict[str, Any]) -> str:
    """Indented JSON, UTF-8 text."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_csv(data: dict[str, Any]) -> str:
    """One CSV with a ``section`` column (people, pledge, waitlist, log)."""
    buf = io.StringIO()
    out = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    out.writeheader()
    rows: list[dict[str, Any]] = []
    rows += [{"section": "people", **{k: p[k] for k in ("name", "email", "organisation",
                                                         "role", "status", "seat")},
              "at": p["asked_at"]} for p in data["people"]]
    rows += [{"section": "pledge", **{k: p[k] for k in ("name", "email", "organisation",
                                                         "status", "currency", "amount")}}
             for p in data["pledges"]]
    rows += [{"section": "waitlist", **{k: w[k] for k in ("name", "email", "organisation",
                                                           "position")}, "at": w["asked_at"]}
             for w in data["waitlist"]]
    rows += [{"section": "log", **entry} for entry in data["log"]]
    for row in rows:
        out.writerow({c: neutralise(row.get(c, "")) for c in COLUMNS})
    return buf.getvalue()
