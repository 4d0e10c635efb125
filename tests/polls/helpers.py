"""Helpers for poll tests: create a proposal by chat, read stances back."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from adapters.console import ConsoleSession
from bot.app import Bot
from storage.base import utcnow
from storage.models import AuditEntry, Proposal, Round, Stance


def closes_in(days: float = 7) -> str:
    """A closing time as ISO 8601 with an offset."""
    return (utcnow() + timedelta(days=days)).replace(microsecond=0).isoformat()


def new_poll(bot: Bot, email: str, *, title: str = "Adopt the soil protocol v2",
             text: str = "We adopt **v2** of the sampling protocol.", days: float = 7,
             group: str = "") -> int:
    """Create a proposal through the console in one line; returns its id."""
    s = ConsoleSession(dispatch=bot.dispatch, email=email)
    line = f"poll new {title} | {text} | {closes_in(days)}" + (f" | {group}" if group else "")
    out = s.feed(line)
    assert "is open for stances" in out, out
    with bot.session_factory() as session:
        pid = session.scalar(select(func.max(Proposal.id)))
    assert pid is not None
    return int(pid)


def stances(bot: Bot, pid: int, round_no: int = 1) -> dict[str, tuple[str, str, str]]:
    """voter_key -> (stance, channel, reason) for a round."""
    with bot.session_factory() as session:
        rows = session.execute(
            select(Stance.voter_key, Stance.stance, Stance.channel, Stance.reason)
            .join(Round, Round.id == Stance.round_id)
            .where(Round.proposal_id == pid, Round.number == round_no)).all()
    return {k: (s, c, r) for k, s, c, r in rows}


def all_stances(bot: Bot) -> int:
    with bot.session_factory() as session:
        return session.scalar(select(func.count(Stance.id))) or 0


def audits(bot: Bot, action_prefix: str = "poll.stance") -> list[AuditEntry]:
    with bot.session_factory() as session:
        return list(session.scalars(select(AuditEntry).where(
            AuditEntry.action.like(f"{action_prefix}%")).order_by(AuditEntry.id)).all())


def proposal(bot: Bot, pid: int) -> Proposal:
    with bot.session_factory() as session:
        p = session.get(Proposal, pid)
        assert p is not None
        session.expunge(p)
        return p


def later(hours: float) -> datetime:
    return utcnow() + timedelta(hours=hours)


def fail_round_one(bot: Bot, *, secretariat: str, block_by: str, days: float = 7) -> int:
    """A proposal whose round 1 closed without consensus (one block), by chat."""
    pid = new_poll(bot, secretariat, days=days)
    s = ConsoleSession(dispatch=bot.dispatch, email=block_by)
    s.feed(f"vote {pid} block Not before the field trials end")
    assert stances(bot, pid)
    out = ConsoleSession(dispatch=bot.dispatch, email=secretariat).feed(f"poll close {pid}")
    assert "consensus not reached" in out, out
    return pid


def open_round_two(bot: Bot, *, secretariat: str, pid: int) -> str:
    out = ConsoleSession(dispatch=bot.dispatch, email=secretariat).feed(
        f"poll email-round {pid}")
    assert "is open by email" in out, out
    return out


def origin(bot: Bot) -> dict[str, str]:
    """The Origin header of our own confirmation pages (the link POST's
    same-origin check compares it with ``[http] base_url``)."""
    return {"Origin": bot.settings.http.public_url()}


#: The confirmation page's button field, which a link POST must carry.
YES = {"confirm": "yes"}
