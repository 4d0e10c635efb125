"""The workshops section of a person's home page: upcoming workshops of their
groups with their answer, and their open action items."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bot.errors import N_
from bot.registry import HomeContext
from bot.types import Block, Header, Section
from bot.workshops.render import RSVP_LABELS, local_text
from storage.base import utcnow
from storage.models import Membership, Workshop, WorkshopAction, WorkshopRsvp


def workshops_section(ctx: HomeContext) -> Sequence[Block]:
    """Blocks for the home page (empty when nothing is coming up)."""
    p = ctx.person
    groups = select(Membership.group_id).where(Membership.person_id == p.id)
    rows = ctx.session.execute(
        select(Workshop, WorkshopRsvp.answer).outerjoin(
            WorkshopRsvp, (WorkshopRsvp.workshop_id == Workshop.id)
            & (WorkshopRsvp.person_id == p.id))
        .where(Workshop.group_id.in_(groups), Workshop.state.in_(("finding", "confirmed")))
        .order_by(Workshop.id.desc()).limit(5)).all()
    lines = []
    for ws, answer in rows:
        if ws.starts_at is None:
            lines.append(ctx._("#{id} {title}: answer the candidate slots (workshop slots "
                               "{id})", id=ws.id, title=ws.title))
        elif ws.starts_at > utcnow():
            lines.append(f"#{ws.id} {ws.title}: {local_text(ws.starts_at, p.timezone, p.language)}"
                         f" ({ctx._(RSVP_LABELS[answer]) if answer else ctx._('no answer yet')})")
    actions = ctx.session.scalars(select(WorkshopAction).where(
        WorkshopAction.owner_id == p.id, WorkshopAction.done_at.is_(None))).all()
    for a in actions:
        lines.append(ctx._("Action #{id}: {text} (due {when})", id=a.id, text=a.text,
                           when=local_text(a.due_at, p.timezone, p.language)))
    if not lines:
        return []
    return [Header(ctx._(N_("Workshops"))), Section("\n".join(lines))]
