"""Suggestions for what a person is typing: a command's next word, an object's id.

Platforms with autocomplete (a chat platform's application commands) ask the core,
never a capability: a capability registers a completer
(:meth:`bot.registry.Registry.completer`) for the commands whose first
argument names one of its objects (``poll`` and ``vote`` take a
proposal id), and :func:`complete` answers with at most ``limit`` options
the person may see. Any error means no suggestions (never a refusal: the
command itself is checked when it runs).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.members import resolve_actor
from bot.permissions import PersonRef, authorize
from bot.registry import Completer
from bot.types import Actor, Option

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

def _person(session: Session, actor: Actor) -> PersonRef | None:
    person = resolve_actor(session, actor)
    return PersonRef(person.id, person.language, person.organisation_id) if person else None


def complete(bot: Bot, *, actor: Actor, command: str, prefix: str,
             limit: int = 25) -> list[Option]:
    """Ids for the argument of ``command`` starting with (or whose label holds)
    ``prefix``, for ``actor``; ``[]`` when unknown, not allowed or failing."""
    spec = bot.registry.completer_for(command)
    if spec is None:
        return []
    try:
        with bot.session_factory() as session:
            person = _person(session, actor)
            authorize(session=session, person=person, capability=spec.capability,
                      channel=actor.platform, policy=bot.policy)
            assert person is not None
            return spec.fn(session, person, prefix.strip())[:limit]
    except Exception:
        log.debug("no completions for %s %r", command, prefix, exc_info=True)
        return []


def next_words(bot: Bot, *, actor: Actor, first: str, prefix: str,
               limit: int = 25) -> list[str]:
    """The second words of ``first``'s commands (``poll`` -> ``new``, ``show``, ...)
    that ``actor`` may run, starting with ``prefix``."""
    words: list[tuple[str, str]] = []
    for route in bot.registry.routes:
        head, _, rest = route.name.partition(" ")
        if route.kind == "command" and head == first.lower() and rest \
                and rest.startswith(prefix.strip().lower()):
            words.append((rest, route.capability))
    try:
        with bot.session_factory() as session:
            person = _person(session, actor)
            allowed = []
            for word, capability in words:
                try:
                    authorize(session=session, person=person, capability=capability,
                              channel=actor.platform, policy=bot.policy)
                except Exception:  # noqa: BLE001, S112  (not theirs: not suggested)
                    continue
                allowed.append(word)
            return allowed[:limit]
    except Exception:
        log.debug("no command words for %s", first, exc_info=True)
        return []


def titled_completer(model: Any, *, capability: str, limit: int = 25,
                     exclude_states: tuple[str, ...] = ()) -> Completer:
    """A completer over a model with ``id``, ``title`` and ``group_id`` columns
    (a proposal, a workshop, a sprint): the newest whose id or title matches the
    prefix and whose group the person may see with ``capability``."""

    def fn(session: Session, person: PersonRef, prefix: str) -> list[Option]:
        q = select(model.id, model.title, model.group_id).order_by(model.id.desc())
        if exclude_states and hasattr(model, "state"):
            q = q.where(model.state.not_in(exclude_states))
        needle = prefix.lstrip("#").lower()
        out: list[Option] = []
        for oid, title, group_id in session.execute(q.limit(200)).all():
            if needle and not (str(oid).startswith(needle) or needle in title.lower()):
                continue
            try:
                authorize(session=session, person=person, capability=capability,
                          group_id=group_id, channel="completion")
            except Exception:  # noqa: BLE001, S112  (not visible to them: not suggested)
                continue
            out.append(Option(f"#{oid} {title}"[:100], str(oid)))
            if len(out) >= limit:
                break
        return out

    return fn
