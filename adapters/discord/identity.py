"""Discord account -> roster person, by a one-time code sent to the roster address.

Discord does not share email addresses, and a display name proves nothing, so
a person links their account once:

1. ``/convene link email:ADDRESS``: if ADDRESS is on the roster, a code of 10
   characters (about 50 bits) is emailed to it through the outbox. The answer
   is the same whether or not it is on the roster (no one learns who is).
2. The person presses "Enter the code" and types it in a modal; a matching,
   unexpired, unused code links this Discord account to that person.

Only an HMAC-SHA256 of (guild, user, code) under the instance's secret key is
stored, so the database alone does not give codes away and a code works only
for the account that asked for it. Codes expire (``[discord]
link_code_minutes``), are single-use (a conditional UPDATE, so two
submissions of one code link once), and a code is void after 5 wrong
guesses; an account may ask for 3 codes an hour.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult

from adapters.discord.models import DiscordLinkCode
from adapters.discord.settings import discord_settings
from bot.errors import N_
from bot.i18n import translator
from bot.mail import OutgoingEmail
from bot.members import link_identity, normalise_email, person_by_email, resolve_actor
from bot.outbox import enqueue_email
from bot.types import Actor
from storage.base import utcnow
from storage.models import Person

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 10
MAX_ATTEMPTS = 5
CODES_PER_HOUR = 3


def _digest(key: str, actor: Actor, code: str) -> str:
    msg = f"{actor.workspace_id}:{actor.user_id}:{code}".encode()
    return hmac.new(key.encode(), msg, hashlib.sha256).hexdigest()


def normalise_code(raw: str) -> str:
    """A typed code without spaces or dashes, upper-case."""
    return "".join(c for c in raw.upper() if c.isalnum())


def new_code() -> str:
    """A fresh random code (``secrets``), shown as ``ABCDE-FGHJK``."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


class Linker:
    """Requests and confirms link codes for ``bot``'s Discord accounts."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def is_linked(self, actor: Actor) -> bool:
        """Whether ``actor`` is linked to a roster person."""
        with self.bot.session_factory() as session:
            return resolve_actor(session, actor) is not None

    def request(self, *, actor: Actor, address: str) -> bool:
        """Email a code to ``address`` if it is on the roster. Returns whether a
        code was queued (the caller answers the same either way). Raises
        ValueError for an address that is not one."""
        address = normalise_email(address)
        settings = self.bot.settings
        with self.bot.session_factory() as session, session.begin():
            person = person_by_email(session, address)
            if person is None:
                log.info("Discord link asked for an address not on the roster")
                return False
            now = utcnow()
            recent = session.scalar(select(func.count(DiscordLinkCode.id)).where(
                DiscordLinkCode.guild_id == actor.workspace_id,
                DiscordLinkCode.user_id == actor.user_id,
                DiscordLinkCode.created_at > now - timedelta(hours=1))) or 0
            if recent >= CODES_PER_HOUR:
                log.warning("Discord user %s asked for too many link codes", actor.user_id)
                return False
            # Earlier codes of this account stop working: only the newest counts.
            session.execute(update(DiscordLinkCode).where(
                DiscordLinkCode.guild_id == actor.workspace_id,
                DiscordLinkCode.user_id == actor.user_id,
                DiscordLinkCode.used_at.is_(None)).values(used_at=now))
            code = new_code()
            row = DiscordLinkCode(
                person_id=person.id, guild_id=actor.workspace_id, user_id=actor.user_id,
                code_hash=_digest(settings.signing_key(), actor, code), created_at=now,
                expires_at=now + timedelta(minutes=discord_settings(settings).link_code_minutes),
                attempts=0)
            session.add(row)
            session.flush()
            tr = translator(person.language)
            shown = f"{code[:5]}-{code[5:]}"
            text = tr.gettext(N_(
                "Hello {name},\n\nSomeone asked to link a Discord account to your Convene "
                "profile. If it was you, enter this code in Discord (the \"Enter the code\" "
                "button) within {minutes} minutes:\n\n    {code}\n\nIf it was not you, ignore "
                "this email: nothing is linked without the code."),
                name=person.name, minutes=discord_settings(settings).link_code_minutes, code=shown)
            enqueue_email(session=session, key=f"discord-link:{row.id}", email=OutgoingEmail(
                to=(address,), subject=tr.gettext(N_("Your Convene code for Discord")),
                text=text))
        return True

    def confirm(self, *, actor: Actor, code: str) -> Person | None:
        """Link ``actor`` if ``code`` is its live code; returns the person (None:
        wrong, expired, used or out of attempts)."""
        typed = normalise_code(code)
        key = self.bot.settings.signing_key()
        with self.bot.session_factory() as session, session.begin():
            now = utcnow()
            rows = session.scalars(select(DiscordLinkCode).where(
                DiscordLinkCode.guild_id == actor.workspace_id,
                DiscordLinkCode.user_id == actor.user_id,
                DiscordLinkCode.used_at.is_(None),
                DiscordLinkCode.expires_at > now,
                DiscordLinkCode.attempts < MAX_ATTEMPTS)).all()
            expected = _digest(key, actor, typed)
            match = next((r for r in rows if hmac.compare_digest(r.code_hash, expected)), None)
            if match is None:
                for r in rows:
                    r.attempts += 1
                return None
            claimed = cast(CursorResult[Any], session.execute(update(DiscordLinkCode).where(
                DiscordLinkCode.id == match.id, DiscordLinkCode.used_at.is_(None))
                .values(used_at=now).execution_options(synchronize_session=False)))
            if claimed.rowcount != 1:
                return None
            person = session.get(Person, match.person_id)
            if person is None:
                return None
            link_identity(session, person=person, actor=actor)
            return person
