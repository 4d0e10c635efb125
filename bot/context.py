"""What a route handler receives: the unit of work, the person, the event."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.cache import Caches
from bot.errors import N_, PermissionDenied
from bot.i18n import Translator
from bot.permissions import Authorized, PersonRef, Policy, authorize
from bot.settings import Settings
from bot.types import ButtonPress, Command, Event, FormSubmission, Message, Reply
from storage.models import Person

HandlerResult = Message | Reply | list[Reply] | None


class Listed(Protocol):
    """A registered route as ``help`` lists it (a :class:`bot.routing.Route`)."""

    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def capability(self) -> str: ...
    @property
    def help(self) -> str: ...
    @property
    def usage(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Services:
    """What a handler may use of the running core, made once per Bot:
    ``settings``; the ``policy`` in force; ``session_factory`` for work after
    the commit (never for the handler's own writes: use ``ctx.session``);
    ``caches`` of derived data; ``routes`` (the registered routes, for help);
    ``calendar_platforms`` (platforms whose deliverer also publishes calendar
    events natively; plugins add to this set)."""

    settings: Settings
    policy: Policy
    session_factory: sessionmaker[Session]
    caches: Caches
    routes: Iterable[Listed]
    calendar_platforms: set[str]


@dataclass
class Context:
    """One dispatch: ``session`` (never commit it: the dispatcher does),
    ``person`` (resolved from the actor; the ORM object is loaded on first
    use, ``who`` has its id, language and organisation without a load),
    ``auth`` (the route's capability, already checked in the group the
    object belongs to), ``args`` (command arguments) and ``_`` (gettext in the
    person's language). A route's scope resolver runs before ``auth`` is set;
    reading ``auth`` then raises PermissionDenied (fail closed). ``services``
    (:class:`Services`) is the rest, read through ``settings``, ``policy``,
    ``caches``, ``session_factory``, ``routes`` and ``calendar_platforms``."""

    services: Services
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
                         group_id=group_id, channel=self.channel,
                         policy=self.services.policy)

    @property
    def settings(self) -> Settings:
        """The configuration in force."""
        return self.services.settings

    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return self.services.policy

    @property
    def caches(self) -> Caches:
        """Caches of derived data (rebuilt at any time, never state)."""
        return self.services.caches

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """New units of work, for :meth:`after_commit` work only."""
        return self.services.session_factory

    @property
    def routes(self) -> Iterable[Listed]:
        """Every registered route (what ``help`` lists)."""
        return self.services.routes

    @property
    def calendar_platforms(self) -> set[str]:
        """Platforms publishing calendar events natively (a chat server's scheduled events)."""
        return self.services.calendar_platforms
