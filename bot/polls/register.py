"""The decision register: every decided proposal, exportable as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.polls.proposals import comments, current_text
from bot.polls.stances import STANCES
from storage.models import Group, Proposal

CSV_COLUMNS = ("id", "title", "group", "text_version", "text", "rounds", "tallies", "dissent",
               "outcome", "determination_note", "decided_at", "discussion")


def decisions(session: Session) -> list[dict[str, Any]]:
    """One record per decided proposal, oldest decision first: ``id``, ``title``,
    ``group``, ``text_version``, ``text``, ``rounds`` (number, medium, opened,
    closed, counts, eligible, quorum_met, outcome), ``dissent`` (round, stance,
    name, reason for every block and disagree), ``outcome`` (consensus, upheld,
    rejected), ``determination_note``, ``decided_at`` (ISO 8601, UTC) and
    ``discussion`` (every comment: name, text, advisory: true for an observer's)."""
    rows = session.scalars(
        select(Proposal).where(Proposal.state == "decided")
        .options(selectinload(Proposal.rounds), selectinload(Proposal.versions))
        .order_by(Proposal.decided_at, Proposal.id)).all()
    groups = {g.id: g.name for g in session.scalars(select(Group)).all()}
    out: list[dict[str, Any]] = []
    for p in rows:
        rounds, dissent = [], []
        for r in p.rounds:
            res = r.result or {}
            rounds.append({
                "number": r.number, "medium": r.medium, "opened": r.opens_at.isoformat(),
                "closed": r.closed_at.isoformat() if r.closed_at else None,
                "counts": {s: int(res.get("counts", {}).get(s, 0)) for s in STANCES},
                "eligible": res.get("eligible"), "quorum_met": res.get("quorum_met"),
                "outcome": r.outcome})
            for stance, key in (("block", "blocks"), ("disagree", "dissent")):
                for name, reason in res.get(key, []):
                    dissent.append({"round": r.number, "stance": stance, "name": name,
                                    "reason": reason})
        out.append({
            "id": p.id, "title": p.title, "group": groups.get(p.group_id, ""),
            "text_version": p.version, "text": current_text(p), "rounds": rounds,
            "dissent": dissent, "outcome": p.outcome,
            "determination_note": p.determination_note,
            "decided_at": p.decided_at.isoformat() if p.decided_at else None,
            "discussion": [{"name": n, "text": t, "advisory": a}
                           for n, t, a in comments(session, p)],
        })
    return out


def to_json(records: list[dict[str, Any]]) -> str:
    """The register as a JSON array (UTF-8 text, indented)."""
    return json.dumps(records, ensure_ascii=False, indent=2)


#: First characters a spreadsheet reads as a formula (OWASP "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> str:
    """A CSV cell that a spreadsheet shows as text: one starting with ``=``,
    ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'`` (OWASP)."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(records: list[dict[str, Any]]) -> str:
    """The register as CSV with :data:`CSV_COLUMNS`; rounds and dissent are
    flattened (``1 chat: agree 3 abstain 0 disagree 1 block 1 -> not_reached``).
    Every cell goes through :func:`neutralise`, so none runs as a formula."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for r in records:
        tallies = "; ".join(
            f"{x['number']} {x['medium']}: "
            + " ".join(f"{s} {x['counts'][s]}" for s in STANCES) + f" -> {x['outcome']}"
            for x in r["rounds"])
        dissent = " | ".join(f"round {d['round']} {d['stance']} {d['name']}: {d['reason']}"
                             for d in r["dissent"])
        discussion = " | ".join(f"{c['name']}{' (advisory)' if c['advisory'] else ''}: "
                                f"{c['text']}" for c in r["discussion"])
        w.writerow([neutralise(c) for c in (
            r["id"], r["title"], r["group"], r["text_version"], r["text"], len(r["rounds"]),
            tallies, dissent, r["outcome"], r["determination_note"] or "",
            r["decided_at"] or "", discussion)])
    return buf.getvalue()
