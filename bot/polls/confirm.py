"""What a stance is answered with, on the general and the fast path alike.

:func:`stance_replies` is the one reply builder both paths call once a
stance is written (:mod:`bot.polls.routes` in the unit of work,
:mod:`bot.polls.fast` after its statement), so the two cannot answer
differently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.errors import N_
from bot.polls import proposals, rounds
from bot.polls.stances import STANCE_LABELS, Cast, eligible_cached, find_proposal
from bot.types import Message, Reply

if TYPE_CHECKING:
    from bot.context import Services
    from bot.i18n import Translator

log = logging.getLogger(__name__)

#: The longest reason kept (characters); a longer one is cut, and the voter told.
REASON_LIMIT = 4000

#: How many stances short of every voting unit a round may be for a stance to
#: check, after its commit, whether the round is complete (stances in flight do
#: not see each other, so the check starts this margin early).
CLOSE_CHECK_MARGIN = 64


def stance_replies(*, services: Services, session: Session, tr: Translator,
                   after_commit: Callable[[Callable[[], None]], None], proposal_id: int,
                   group_id: int, cast: Cast, cut: bool,
                   refreshed: bool = False) -> list[Reply]:
    """What follows a stance written in this unit of work, on the general and
    the fast path alike (:mod:`bot.polls.fast`; ``services`` is the handler's
    :class:`~bot.context.Services`): queue the tally refresh where
    the proposal is posted (unless ``refreshed``: the stance's statement queued
    it, as the fast path does on PostgreSQL), check after the commit whether
    the round is complete, and the confirmation in ``tr``'s language (``cut``:
    the reason was longer than :data:`REASON_LIMIT` characters)."""
    per = cast.counts
    eligible = eligible_cached(session, group_id=group_id, voting_unit=cast.voting_unit,
                               cache=services.caches.get("polls.eligible"))
    if cast.posted and not refreshed:
        proposals.post(session, find_proposal(session, proposal_id))
    # Concurrent stances do not see each other before they commit, so the check
    # runs after the commit whenever the round is nearly complete; the deadline
    # job closes a complete round too, as a backstop.
    if sum(per.values()) + CLOSE_CHECK_MARGIN >= eligible:
        _close_after_commit(services, after_commit, proposal_id)
    label = tr.gettext(STANCE_LABELS[cast.stance])
    summary = " · ".join(f"{tr.gettext(STANCE_LABELS[s])} {n}" for s, n in per.items())
    lines = [tr.gettext(N_("Your stance on proposal #{id}, round {round}: {stance}."),
                        id=proposal_id, round=cast.round_no, stance=label), summary]
    if cut:
        lines.append(tr.gettext(N_("Your reason was kept to its first {limit} characters."),
                                limit=tr.format.number(REASON_LIMIT)))
    return [Reply(Message("\n".join(lines)))]


def _close_after_commit(services: Services, after_commit: Callable[[Callable[[], None]], None],
                        proposal_id: int) -> None:
    """Once the dispatcher's transaction has committed and given its connection
    back to the pool, check (in a unit of work of its own) whether every unit has
    a stance and close the round early if so."""
    session_factory, settings = services.session_factory, services.settings

    def close() -> None:
        try:
            rounds.close_if_complete(session_factory, settings, proposal_id)
        except Exception:
            log.exception("early close of proposal %s failed; the deadline job will close it",
                          proposal_id)

    after_commit(close)
