"""A person's home page, platform-neutral: a chat platform's home tab, and any
adapter with a similar place.

Capabilities contribute sections: ``reg.home_section(provider, order=...)``
(:meth:`bot.registry.Registry.home_section`) where a provider takes a
:class:`~bot.registry.HomeContext` and returns blocks (a poll module lists
the person's open proposals and pending stances; the digest its latest
issue). ``home_message(bot, actor)`` assembles them into one Message. The
page only reads: a provider checks what the person may see and never writes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.errors import N_, DomainError
from bot.i18n import translator
from bot.members import resolve_actor
from bot.registry import HomeContext
from bot.types import Actor, Block, Divider, Header, Message, Section, SmallPrint

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)


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
        ctx = HomeContext(settings=bot.settings, session=session, person=person, tr=tr)
        title = tr.gettext(N_("Convene for {alliance}"), alliance=bot.settings.alliance_name)
        blocks: list[Block] = [Header(title),
                               Section(tr.gettext(N_("Hello {name}."), name=person.name))]
        added = False
        for provider in bot.registry.home_sections:
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
