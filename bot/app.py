"""The dispatcher: the running core.

A :class:`Bot` composes a filled :class:`~bot.registry.Registry` (routes,
jobs, home sections, ...) with the services (settings, engine, session
factory, mail, leadership, metrics); :func:`bot.compose.build_app` makes one.
``Bot.dispatch(event)`` is the one way an event from any adapter enters the core.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, bindparam
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.cache import Caches
from bot.context import Context, HandlerResult, Services
from bot.errors import N_, DomainError, FieldError, Unavailable, is_unavailable, render_error
from bot.i18n import Translator, translator
from bot.lease import Leadership
from bot.mail import MailTransport
from bot.members import resolve_event
from bot.metrics import Metrics
from bot.outbox import ChatDeliverer, OutboxWorker
from bot.permissions import PersonRef, Policy, authorize
from bot.queue import new_instance_id
from bot.registry import Registry
from bot.routing import Done, FastCall, FastFailed, Repeated, Route
from bot.settings import Settings
from bot.types import (
    Actor,
    Attendance,
    ButtonPress,
    Command,
    Event,
    FormSubmission,
    InboundEmail,
    Message,
    Reply,
)
from storage.base import utcnow
from storage.engine import dialect_insert
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)


def _dedupe_statement(postgresql: bool) -> Any:
    # Built once: constructing a statement costs more than executing it.
    ins = dialect_insert("postgresql" if postgresql else "sqlite")(ProcessedEvent)
    return ins.values(platform=bindparam("platform"), event_id=bindparam("event_id"),
                      at=bindparam("at")).on_conflict_do_nothing(
        index_elements=["platform", "event_id"]).returning(ProcessedEvent.id)


#: ``INSERT .. ON CONFLICT DO NOTHING RETURNING id`` per dialect (True: PostgreSQL).
_DEDUPE = {True: _dedupe_statement(True), False: _dedupe_statement(False)}


@dataclass
class Bot:
    """The running core: ``registry`` (what capabilities and plugins
    registered) and the services. Adapters call :meth:`dispatch`; jobs use
    ``session_factory``."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    registry: Registry
    mail: MailTransport
    chat_deliverers: dict[str, ChatDeliverer] = field(default_factory=dict)
    #: Platforms whose deliverer also publishes :class:`~bot.types.CalendarEvent`
    #: payloads natively (a platform's scheduled events); plugins add themselves.
    calendar_platforms: set[str] = field(default_factory=set)
    #: Caches of derived data that capabilities may rebuild at any time (never state).
    caches: Caches = field(default_factory=lambda: Caches())
    #: Per-platform runtime objects that plugins make (an adapter's client), opaque to the core.
    adapters: dict[str, object] = field(default_factory=dict)
    #: This process among the replicas (``[queue] instance_id``, else random).
    instance_id: str = ""
    #: True in ``convene serve`` (the main job): plugins may start processes of their own.
    main_job: bool = False
    #: The scheduler lease (``is_leader()``, ``on_change(cb)``): see bot.lease.
    leadership: Leadership = field(init=False)
    metrics: Metrics = field(init=False)
    #: What handlers are given (:class:`bot.context.Services`), made once.
    services: Services = field(init=False)

    def __post_init__(self) -> None:
        self.instance_id = self.instance_id or self.settings.queue.instance_id or \
            new_instance_id()
        jobs = self.settings.jobs
        self.leadership = Leadership(self.engine, key=jobs.lock_key,
                                     check_seconds=jobs.lease_check_seconds)
        self.metrics = Metrics(self.session_factory, leader=self.leadership.is_leader,
                               queues=self.registry.queue_tables.values)
        self.services = Services(settings=self.settings, policy=self.registry.policy,
                                 session_factory=self.session_factory, caches=self.caches,
                                 routes=self.registry.routes,
                                 calendar_platforms=self.calendar_platforms)

    @property
    def policy(self) -> Policy:
        """The policy in force (the registry's)."""
        return self.registry.policy

    def dispatch(self, event: Event, *, raise_unavailable: bool = False) -> list[Reply]:
        """Handle one event in one unit of work and return the replies.

        Drops an event whose ``(platform, event_id)`` was seen before (platform
        retries). Resolves the actor, finds the route, checks the route's
        capability in its scope, runs the handler and commits; only then are
        the replies returned. A DomainError becomes a reply in the person's
        language and nothing is written; anything else is logged and the
        person gets an apology with a reference, never a stack trace.
        With ``raise_unavailable``, a database that cannot be reached (a lost
        connection, a lock past its timeout: :func:`is_unavailable`) raises
        :class:`~bot.errors.Unavailable` instead, so a caller holding the event
        durably (the inbox, bot/inbox.py) retries it rather than apologising.

        A route with a fast path (:data:`bot.routing.FastPath`: a stance) is
        tried that way first (it begins and commits its own transaction); it
        declines, having committed nothing, whenever the general path has
        more to say, and the general path runs in a unit of work of its own. A unit of
        work whose connection is found dropped before its commit (nothing was
        written) runs once more on a new connection: the pool does not ping
        on every checkout.
        """
        found = self._find_route(event)
        try:
            return self._dispatch_once(event, found, raise_unavailable=raise_unavailable,
                                       may_retry=True)
        except _Dropped:
            # The pooled connection was dead (a restarted server, a terminated
            # backend) and nothing was committed: once more, on a fresh one.
            return self._dispatch_once(event, found, raise_unavailable=raise_unavailable,
                                       may_retry=False)

    def _dispatch_once(self, event: Event, found: tuple[Route | None, str], *,
                       raise_unavailable: bool, may_retry: bool) -> list[Reply]:
        tr = translator(self.settings.default_language)
        committing = False
        with self.session_factory() as session:
            try:
                route, args = found
                outcome = route.fast(FastCall(self.services, session, event, route, args)) \
                    if route is not None and route.fast is not None else None
                if isinstance(outcome, Repeated):
                    log.info("dropping repeated event %s/%s", event.actor.platform,
                             event.event_id)
                    return []
                if isinstance(outcome, Done):
                    replies, after = outcome.replies, outcome.after
                else:  # no fast path, or it declined having committed nothing
                    with session.begin():
                        first, person = self._first_delivery(session, event)
                        if not first:
                            log.info("dropping repeated event %s/%s", event.actor.platform,
                                     event.event_id)
                            return []
                        if person is not None:
                            tr = translator(person.language)
                        replies, after = self._route(session, event, person, tr, found)
                        committing = True
            except Exception as raised:
                session.rollback()
                exc, unsure, committed = raised, committing, False
                if isinstance(raised, FastFailed):
                    exc, tr = raised.error, raised.tr
                    unsure, committed = raised.unsure, raised.committed
                if isinstance(exc, DomainError):
                    return [Reply(Message(render_error(tr, exc)))]
                if may_retry and not unsure and _dropped(exc):
                    log.warning("connection found dropped before anything was written; "
                                "retrying the unit of work once: %s", _first_line(exc))
                    raise _Dropped from exc
                if raise_unavailable and is_unavailable(exc):
                    raise Unavailable(_first_line(exc)) from exc
                ref = secrets.token_hex(4)
                log.exception("unexpected error handling %s (ref %s)", type(event).__name__, ref)
                if committed:
                    return [Reply(Message(tr.gettext(
                        N_("Your change was recorded, but something went wrong on my side "
                           "while confirming it (reference {ref}). There is no need to send "
                           "it again."), ref=ref)))]
                return [Reply(Message(tr.gettext(
                    N_("Something went wrong on my side (reference {ref}); nothing was "
                       "changed. Please try again, or tell the secretariat."), ref=ref)))]
        for work in after:
            try:
                work()
            except Exception:
                log.exception("after-commit work %r failed (the change itself is committed)",
                              work)
        return replies

    def check_form(self, event: FormSubmission) -> dict[str, str]:
        """Which fields of a submitted form the core would refuse, before it is
        accepted: field name -> the message, in the person's language. Runs the
        form's route in a unit of work that is always rolled back (nothing is
        written, the event id is not recorded); only a FieldError names a field,
        so anything else (including an error while checking) gives ``{}`` and
        the submission goes on to :meth:`dispatch` as usual."""
        tr = translator(self.settings.default_language)
        with self.session_factory() as session:
            try:
                with session.begin():
                    _, person = resolve_event(session, event.actor)
                    if person is not None:
                        tr = translator(person.language)
                    self._route(session, event, person, tr)
                    raise _CheckedOnly
            except _CheckedOnly:
                return {}
            except FieldError as exc:
                return {exc.field: render_error(tr, exc)}
            except Exception:
                log.debug("form check of %s failed; leaving it to dispatch", event.form_id,
                          exc_info=True)
                return {}

    def _first_delivery(self, session: Session, event: Event
                        ) -> tuple[bool, PersonRef | None]:
        """Record the event id and resolve the actor: ``(first delivery, person)``;
        ``(False, None)`` when the event was recorded before (a retry).

        One ``INSERT .. ON CONFLICT DO NOTHING`` in the unit of work: a crash
        before the commit forgets it, so the retry is handled then. On
        PostgreSQL the insert is a CTE of the statement that also reads the
        person and their roles (one round trip, see
        :func:`bot.members.resolve_event`); SQLite, which has no DML in CTEs,
        runs the insert first.
        """
        if not event.event_id:
            return resolve_event(session, event.actor)
        postgresql = session.get_bind().dialect.name == "postgresql"
        params = {"platform": event.actor.platform, "event_id": event.event_id[:255],
                  "at": utcnow()}
        if postgresql:
            return resolve_event(session, event.actor, dedupe=_DEDUPE[True],
                                 dedupe_params=params)
        # On the session's connection (Core): the ORM's bulk-insert layer costs
        # more than the statement itself.
        if session.connection().execute(_DEDUPE[False], params).first() is None:
            return False, None
        return resolve_event(session, event.actor)

    def _find_route(self, event: Event) -> tuple[Route | None, str]:
        """The route of ``event`` and, for a command, its arguments; found from
        the router alone (no database), once per event."""
        if isinstance(event, Command):
            found = self.registry.routes.match_command(f"{event.name} {event.args}".strip())
            return found if found else (None, "")
        if isinstance(event, ButtonPress):
            return self.registry.routes.find("action", event.action_id), ""
        if isinstance(event, FormSubmission):
            return self.registry.routes.find("form", event.form_id), ""
        if isinstance(event, InboundEmail):
            route = next((r for r in (self.registry.routes.find("reply", t) for t in event.tags())
                          if r is not None), None)
            if route is None and any(p.mime_type.split(";")[0].strip().lower()
                                     == "text/calendar" for p in event.parts):
                route = self.registry.routes.find("reply", "calendar")
            return route, ""
        if isinstance(event, Attendance):
            return self.registry.routes.find("attendance", event.tag()), ""
        return None, ""  # pragma: no cover - Event is a closed union

    def _route(self, session: Session, event: Event, person: PersonRef | None,
               tr: Translator, found: tuple[Route | None, str] | None = None
               ) -> tuple[list[Reply], list[Callable[[], None]]]:
        route, args = found if found is not None else self._find_route(event)
        if route is None and isinstance(event, Command):
            if person is None:
                authorize(session=session, person=None, capability="roster.self",
                          channel=event.actor.platform, policy=self.policy)
            raise DomainError(N_("I do not know the command {name!r}. Type help to see "
                                 "what you can do."), name=event.name)
        if route is None and isinstance(event, InboundEmail):
            raise DomainError(N_("I could not tell which message of mine this email "
                                 "answers. Reply to the email you received, keeping its "
                                 "subject."))
        if route is None:
            raise DomainError(N_("That button or form is no longer recognised."))
        # The unknown person is refused first, before any scope resolver reads
        # untrusted input; then the capability is checked once, in the group the
        # object belongs to (the alliance when the route has no scope), where
        # alliance-wide roles apply as bot.permissions says.
        if person is None:
            authorize(session=session, person=None, capability=route.capability,
                      channel=event.actor.platform, policy=self.policy)
        assert person is not None
        ctx = Context(services=self.services, session=session, event=event, who=person, tr=tr,
                      args=args)
        group_id = route.scope(ctx) if route.scope is not None else None
        ctx.auth = authorize(session=session, person=person, capability=route.capability,
                             group_id=group_id, channel=event.actor.platform,
                             policy=self.policy)
        result = route.handler(ctx)
        return _as_replies(result) + ctx.extra_replies, ctx._after_commit

    def identify(self, actor: Actor, email: str) -> bool:
        """Link a chat account to the roster person with ``email`` (from the
        platform's profile), in its own unit of work. Returns False when no
        person has that address. Idempotent."""
        from bot.members import link_identity, person_by_email

        with self.session_factory() as session, session.begin():
            person = person_by_email(session, email)
            if person is None:
                return False
            link_identity(session, person=person, actor=actor)
        return True

    def new_worker(self) -> OutboxWorker:
        """An outbox worker using this bot's transports, renderers and settings."""
        from datetime import timedelta

        from bot.deadletter import notify_secretariat

        ob = self.settings.outbox
        return OutboxWorker(
            session_factory=self.session_factory, mail=self.mail,
            sender=self.settings.mail.from_address, sender_name=self.settings.mail.from_name,
            chat=self.chat_deliverers, renderers=self.registry.renderers,
            max_attempts=ob.max_attempts, backoff_seconds=ob.backoff_seconds,
            batch_size=ob.batch_size, poll_seconds=ob.poll_seconds,
            instance=self.instance_id, on_dead=notify_secretariat,
            stale=timedelta(seconds=self.settings.queue.stale_seconds),
        )


def _first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, or its type's name when it has none."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class _Dropped(Exception):
    """A unit of work's connection was found dropped before its commit."""


def _dropped(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection was lost (SQLAlchemy then invalidates
    it and the pool's older connections): nothing of the unit of work was
    committed, so it may run again on a new connection."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class _CheckedOnly(Exception):
    """Rolls back the unit of work of :meth:`Bot.check_form`."""


def _as_replies(result: HandlerResult) -> list[Reply]:
    if result is None:
        return []
    if isinstance(result, Message):
        return [Reply(result)]
    if isinstance(result, Reply):
        return [result]
    return list(result)
