"""What a route handler receives: the unit of work, the person, the event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.errors import N_, PermissionDenied
from bot.i18n import Translator
from bot.permissions import Authorized, PersonRef, Policy, authorize
from bot.types import ButtonPress, Command, Event, FormSubmission, Message, Reply
from storage.models import Person

if TYPE_CHECKING:
    from bot.app import Bot

HandlerResult = Message | Reply | list[Reply] | None


@dataclass
class Context:
    """One dispatch: ``session`` (never commit it: the dispatcher does),
    ``person`` (resolved from the actor; the ORM object is loaded on first
    use, ``who`` has its id, language and organisation without a load),
    ``auth`` (the route's capability, already checked in the group the
    object belongs to), ``args`` (command arguments) and ``_`` (gettext in the
    person's language). A route's scope resolver runs before ``auth`` is set;
    reading ``auth`` then raises PermissionDenied (fail closed)."""

    bot: Bot
    session: Session
    event: Event
    who: PersonRef
    tr: Translator
    args: str = ""
    extra_replies: list[Reply] = field(default_factory=list)
    _auth: Authorized | None = field(default=None, repr=False)
    _person: Person | None = field(default=None, repr=False)
    _after_commit: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def auth(self) -> Authorized:
        """The route's checked capability. Raises PermissionDenied before the check."""
        if self._auth is None:
            raise PermissionDenied(N_("I could not check your permissions just now, so I "
                                      "did not do that."))
        return self._auth

    @auth.setter
    def auth(self, value: Authorized) -> None:
        self._auth = value

    def after_commit(self, work: Callable[[], None]) -> None:
        """Run ``work`` once the dispatcher has committed this unit of work and
        given its connection back (never if it rolls back). ``work`` opens its own
        unit of work if it needs one; an exception in it is logged, never shown to
        the person, whose change is already committed."""
        self._after_commit.append(work)

    @property
    def person(self) -> Person:
        """The acting :class:`Person` (loaded in this unit of work on first use)."""
        if self._person is None:
            person = self.session.get(Person, self.who.id)
            assert person is not None, "the actor's person vanished in this unit of work"
            self._person = person
        return self._person

    def _(self, msgid: str, /, **params: Any) -> str:
        """Translate ``msgid`` into the person's language and fill placeholders."""
        return self.tr.gettext(msgid, **params)

    @property
    def channel(self) -> str:
        """The platform the event came through (for audit rows)."""
        return self.event.actor.platform

    @property
    def value(self) -> str:
        """A button's value, or ``""``."""
        return self.event.value if isinstance(self.event, ButtonPress) else ""

    @property
    def form(self) -> FormSubmission | None:
        """The submitted form, if this is a form route."""
        return self.event if isinstance(self.event, FormSubmission) else None

    @property
    def command(self) -> Command | None:
        """The command, if this is a command route."""
        return self.event if isinstance(self.event, Command) else None

    def authorize(self, capability: str, *, group_id: int | None = None) -> Authorized:
        """Check a further capability (e.g. in a proposal's group). Raises PermissionDenied."""
        return authorize(session=self.session, person=self.who, capability=capability,
                         group_id=group_id, channel=self.channel, policy=self.bot.policy)

    def policy(self) -> Policy:
        """The policy in force."""
        return self.bot.policy
