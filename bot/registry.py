"""The registry capabilities and plugins fill: one set of verbs, apart from the Bot.

A capability's ``install(reg)`` is given a :class:`Registry` and calls its
verbs; nothing else of the running core is reachable from there:

- :meth:`Registry.route`: a chat route (``command``, ``action``, ``form``,
  ``reply``, ``attendance``) with the capability it needs (see :mod:`bot.routing`);
- :meth:`Registry.job`: a periodic job (see :mod:`bot.jobs`);
- :meth:`Registry.home_section`: a section of a person's home page (:mod:`bot.home`);
- :meth:`Registry.completer`: id suggestions for a command (:mod:`bot.completion`);
- :meth:`Registry.renderer`: a living message's renderer (:mod:`bot.outbox`);
- :meth:`Registry.web_routes`: HTTP routes, made once the Bot runs (:mod:`bot.web`);
- :meth:`Registry.queue_table`: a leased queue table whose claims a stopping
  replica gives back (:mod:`bot.queue`).

``reg.settings`` and ``reg.policy`` are what an install may read (a job's
period, a capability's existence). The Bot (:mod:`bot.app`) composes a
filled registry with the services and dispatches through ``reg.routes``.
This module imports no registry user, so none of them needs the Bot to type
what it registers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.permissions import PersonRef, Policy
from bot.routing import FastPath, Handler, Route, RouteKind, Router, Scope
from bot.settings import Settings

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from bot.i18n import Translator
    from bot.outbox import Renderer
    from bot.queue import QueueTable
    from bot.types import Block, Option
    from storage.models import Person


@dataclass(frozen=True)
class JobSpec:
    """A periodic job a capability wants. ``func(bot, **kwargs)`` does the work
    (a closure or a module-level function taking the running :class:`~bot.app.Bot`);
    ``trigger`` is an APScheduler trigger name (``cron``, ``interval``, ``date``)
    with ``trigger_args``. ``id`` names it in ``job_runs`` and metrics."""

    id: str
    func: Callable[..., object]
    trigger: str
    trigger_args: dict[str, Any] = field(default_factory=dict)
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HomeContext:
    """What a home section provider gets: ``settings``, a read-only ``session``
    (never commit), the ``person`` whose page it is, and ``tr`` in their language."""

    settings: Settings
    session: Session
    person: Person
    tr: Translator

    def _(self, msgid: str, /, **params: Any) -> str:
        """Translate ``msgid`` into the person's language."""
        return self.tr.gettext(msgid, **params)


#: ``provider(ctx) -> blocks`` of one home page section (only reads).
HomeSection = Callable[[HomeContext], "Sequence[Block]"]

#: ``(session, person, typed prefix) -> options`` (value: the id; label: id and title).
Completer = Callable[[Session, PersonRef, str], "list[Option]"]

#: ``factory(bot) -> routes``: HTTP routes made by :func:`bot.web.create_web_app`
#: from the running :class:`~bot.app.Bot` (a vote link dispatches through it).
WebRoutes = Callable[[Any], "Sequence[BaseRoute]"]


@dataclass(frozen=True, slots=True)
class CompleterSpec:
    """``fn`` suggests ids of ``kind`` for the commands ``commands`` (first
    words, e.g. ``("poll", "vote")``) to people holding ``capability``."""

    kind: str
    commands: tuple[str, ...]
    capability: str
    fn: Completer


class Registry:
    """What capabilities and plugins register, read by the Bot and its runners.

    ``settings``: the configuration installs read; ``policy``: the table every
    route's and completer's capability must be in (else
    :class:`~bot.routing.RouteError` / KeyError at registration).
    """

    def __init__(self, *, settings: Settings, policy: Policy | None = None) -> None:
        self.settings = settings
        self.policy = policy or Policy()
        #: The chat routes (iterate for help; ``match_command``/``find`` to dispatch).
        self.routes = Router(self.policy)
        #: The periodic jobs, in registration order.
        self.jobs: list[JobSpec] = []
        #: Living message renderers by name (the outbox worker calls them).
        self.renderers: dict[str, Renderer] = {}
        #: Id completers by command word.
        self.completers: dict[str, CompleterSpec] = {}
        #: Leased queue tables, by table name.
        self.queue_tables: dict[str, QueueTable] = {}
        self._home: list[tuple[int, int, HomeSection]] = []
        self._web: list[WebRoutes] = []

    def route(self, kind: RouteKind, name: str, handler: Handler, *, capability: str,
              help: str = "", usage: str = "", scope: Scope | None = None,
              fast: FastPath | None = None) -> Route:
        """Register a chat route: ``handler(ctx)`` runs once ``capability`` is
        checked in the group ``scope(ctx)`` names (default: the alliance).
        ``help`` is a gettext msgid, ``usage`` the argument synopsis, ``fast``
        an optional :data:`~bot.routing.FastPath`. Raises RouteError for an
        unknown capability or a ``(kind, name)`` taken."""
        return self.routes.add(kind, name, handler, capability=capability, help=help,
                               usage=usage, scope=scope, fast=fast)

    def job(self, id: str, func: Callable[..., object], *, trigger: str,
            kwargs: dict[str, Any] | None = None, **trigger_args: Any) -> JobSpec:
        """Register a periodic job: ``func(bot, **kwargs)`` on an APScheduler
        ``trigger`` (``interval``, ``cron``, ``date``) with ``trigger_args``
        (``seconds=60``, ``day_of_week="mon"``). Raises ValueError when ``id`` is taken."""
        if any(j.id == id for j in self.jobs):
            raise ValueError(f"job {id!r} is registered twice")
        spec = JobSpec(id=id, func=func, trigger=trigger, trigger_args=dict(trigger_args),
                       kwargs=dict(kwargs or {}))
        self.jobs.append(spec)
        return spec

    def home_section(self, provider: HomeSection, *, order: int = 100) -> None:
        """Register a home page section; sections appear by ``order``, then registration."""
        self._home.append((order, len(self._home), provider))

    @property
    def home_sections(self) -> list[HomeSection]:
        """The home page sections in page order."""
        return [p for _o, _n, p in sorted(self._home, key=lambda s: (s[0], s[1]))]

    def completer(self, *, kind: str, commands: tuple[str, ...], capability: str,
                  fn: Completer) -> None:
        """Suggest ids of ``kind`` for the commands whose first word is in
        ``commands``, to people holding ``capability``. Raises KeyError for a
        capability not in the policy table."""
        self.policy.roles_for(capability)
        spec = CompleterSpec(kind, tuple(c.lower() for c in commands), capability, fn)
        for command in spec.commands:
            self.completers[command] = spec

    def completer_for(self, command: str) -> CompleterSpec | None:
        """The completer registered for ``command``'s first word, or None."""
        word = command.strip().split(" ", 1)[0].lower() if command.strip() else ""
        return self.completers.get(word) if word else None

    def renderer(self, name: str, render: Renderer) -> None:
        """Register ``render(session, args) -> Message | None`` of the living
        messages named ``name`` (``bot.outbox.enqueue_refresh``). Raises
        ValueError when ``name`` is taken."""
        if name in self.renderers:
            raise ValueError(f"renderer {name!r} is registered twice")
        self.renderers[name] = render

    def web_routes(self, factory: WebRoutes) -> None:
        """Register ``factory(bot) -> routes``, called once when the HTTP app is made."""
        self._web.append(factory)

    def make_web_routes(self, bot: Any) -> list[BaseRoute]:
        """Every registered factory's routes for the running ``bot``, in order."""
        return [route for factory in self._web for route in factory(bot)]

    def queue_table(self, table: QueueTable) -> None:
        """Register a leased queue table (its claims are released on shutdown)."""
        self.queue_tables[table.model.__tablename__] = table
