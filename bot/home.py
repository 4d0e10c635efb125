"""A person's home page, platform-neutral: a chat platform's home tab, and any
adapter with a similar place.

Capabilities contribute sections: ``add_home_section(bot, provider)`` where a
provider takes a :class:`HomeContext` and returns blocks (a poll module lists
the person's open proposals and pending stances; the digest its latest
issue). ``home_message(bot, actor)`` assembles them into one Message. The
page only reads: a provider checks what the person may see and never writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.errors import N_, DomainError
from bot.i18n import Translator, translator
from bot.members import resolve_actor
from bot.types import Actor, Block, Divider, Header, Message, Section, SmallPrint
from storage.models import Person

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HomeContext:
    """What a section provider gets: a read-only ``session`` (never commit),
    the ``person`` whose page it is, and ``tr`` in their language."""

    bot: Bot
    session: Session
    person: Person
    tr: Translator

    def _(self, msgid: str, /, **params: Any) -> str:
        """Translate ``msgid`` into the person's language."""
        return self.tr.gettext(msgid, **params)


HomeSection = Callable[[HomeContext], Sequence[Block]]


def add_home_section(bot: Bot, provider: HomeSection, *, order: int = 100) -> None:
    """Register ``provider``; sections appear by ``order``, then registration."""
    bot.home_sections.append((order, len(bot.home_sections), provider))


def home_message(bot: Bot, actor: Actor) -> Message:
    """The home page of the person behind ``actor``: a greeting, then every
    registered section (a failing provider is logged and left out; one that
    raises a DomainError, e.g. a refusal, is left out silently). An unknown
    actor gets a sentence saying how to be added."""
    with bot.session_factory() as session:
        person = resolve_actor(session, actor)
        if person is None:
            tr = translator(bot.settings.default_language)
            text = tr.gettext(N_("I do not know you yet. Ask the secretariat to add the email "
                                 "address of your chat profile to the roster."))
            return Message(text=text, blocks=(Section(text),))
        tr = translator(person.language)
        ctx = HomeContext(bot=bot, session=session, person=person, tr=tr)
        title = tr.gettext(N_("Convene for {alliance}"), alliance=bot.settings.alliance_name)
        blocks: list[Block] = [Header(title),
                               Section(tr.gettext(N_("Hello {name}."), name=person.name))]
        added = False
        for _order, _n, provider in sorted(bot.home_sections,
                                           key=lambda s: (s[0], s[1])):
            try:
                section = list(provider(ctx))
            except DomainError:
                continue
            except Exception:
                log.exception("home section %r failed for person %s", provider, person.id)
                continue
            if section:
                blocks += [Divider(), *section]
                added = True
        if not added:
            blocks.append(Section(tr.gettext(N_("Nothing is waiting for you."))))
        blocks.append(SmallPrint(tr.gettext(N_("Type help to see what you can do."))))
        session.rollback()
    return Message(text=title, blocks=tuple(blocks))
