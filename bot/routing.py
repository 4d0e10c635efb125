"""The command and action registry. Every route declares the capability it needs.

Five kinds of route: ``command`` (typed text: ``poll new``), ``action`` (a
button or select: ``poll.stance``), ``form`` (a submitted form), ``reply``
(an inbound email, by the tag of the Message-ID it answers: ``poll``, or
``calendar`` for an iTIP REPLY) and ``attendance`` (a platform-native calendar
event's interested/not, by the tag of its uid: ``workshop``). A route's
``scope`` resolves the group the capability is checked in (default: the
alliance) from the event, so a button value pointing at another group's poll
is checked against that group.

A route may also offer a ``fast`` path (:data:`FastPath`): a prepared
statement that does the whole of a common event in one round trip. The
dispatcher tries it first and runs the general path when it declines; its
contract is typed: a :data:`FastOutcome` returned, or :class:`FastFailed` raised.

Capabilities register routes through :meth:`bot.registry.Registry.route`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.permissions import Policy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.context import Context, HandlerResult, Services
    from bot.i18n import Translator
    from bot.types import Event, Reply

RouteKind = Literal["command", "action", "form", "reply", "attendance"]
Handler = Callable[["Context"], "HandlerResult"]
Scope = Callable[["Context"], "int | None"]


@dataclass(frozen=True, slots=True)
class FastCall:
    """What a route's fast path is given: the core's ``services``, a session
    with no transaction begun (the fast path begins and commits its own), the
    event, the route (its ``capability`` is the one to check) and the
    command's arguments. Read-only: what the fast path found out comes back in
    its :data:`FastOutcome` or its :class:`FastFailed`."""

    services: Services
    session: Session
    event: Event
    route: Route
    args: str


@dataclass(frozen=True, slots=True)
class Declined:
    """The fast path did not qualify the event and committed nothing: the
    dispatcher runs the general path, which gives every refusal its sentence."""


@dataclass(frozen=True, slots=True)
class Repeated:
    """The event id was recorded before (a platform's retry): nothing to do."""


@dataclass(frozen=True, slots=True)
class Done:
    """The fast path did the event and committed it: ``replies`` and the
    ``after``-commit work, exactly as the route's handler would have produced them."""

    replies: list[Reply]
    after: list[Callable[[], None]] = field(default_factory=list)


#: What a fast path returns; a failure is raised (:class:`FastFailed`, or any
#: exception before the fast path knew the person, having committed nothing).
FastOutcome = Declined | Repeated | Done

#: The one :class:`Declined` (it carries nothing).
DECLINED = Declined()


class FastFailed(Exception):
    """A fast path failed once it knew the person. ``error``: what was raised;
    ``tr``: the person's language, in which the dispatcher tells it;
    ``unsure``: what may commit was sent (a COMMIT): a lost connection is not
    retried; ``committed``: the write is durable, so the person is not told
    "nothing was changed". Raised ``from error``."""

    def __init__(self, error: Exception, *, tr: Translator, unsure: bool = False,
                 committed: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.tr = tr
        self.unsure = unsure
        self.committed = committed


#: ``fast(call) -> FastOutcome``: do the whole event (record its id, resolve
#: the actor, check the capability in the object's group, act, and commit),
#: or decline having committed nothing when the event does not qualify (an
#: unknown person, a refusal, anything needing a form or an error message).
#: It must reply exactly as the general path would on the same input.
FastPath = Callable[[FastCall], FastOutcome]


class RouteError(Exception):
    """A route was registered wrongly (no capability, unknown capability, twice)."""


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of the registry.

    ``help`` is a gettext msgid shown by ``help``; ``usage`` the argument
    synopsis (``ID agree|abstain|disagree|block [REASON]``).
    """

    kind: RouteKind
    name: str
    capability: str
    handler: Handler
    help: str = ""
    usage: str = ""
    scope: Scope | None = None
    fast: FastPath | None = None


class Router:
    """The routes of a :class:`~bot.registry.Registry`, found by kind and name.
    ``policy`` is used to refuse capabilities it does not know."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._routes: dict[tuple[RouteKind, str], Route] = {}

    def add(
        self,
        kind: RouteKind,
        name: str,
        handler: Handler,
        *,
        capability: str | None,
        help: str = "",
        usage: str = "",
        scope: Scope | None = None,
        fast: FastPath | None = None,
    ) -> Route:
        """Register a route. Raises RouteError without a known capability or when
        ``(kind, name)`` is taken. ``fast``: see :data:`FastPath`."""
        if not capability:
            raise RouteError(f"route {kind}:{name} declares no capability")
        if not self.policy.knows(capability):
            raise RouteError(f"route {kind}:{name} needs {capability!r}, not in the policy table")
        key = (kind, name.lower())
        if key in self._routes:
            raise RouteError(f"route {kind}:{name} is registered twice")
        route = Route(kind, name.lower(), capability, handler, help, usage, scope, fast)
        self._routes[key] = route
        return route

    def find(self, kind: RouteKind, name: str) -> Route | None:
        """The route registered as ``(kind, name)``, or None."""
        return self._routes.get((kind, name.lower()))

    def match_command(self, text: str) -> tuple[Route, str] | None:
        """Split typed text into (route, remaining args) by the longest command prefix."""
        words = text.strip().split()
        for n in (3, 2, 1):
            if len(words) < n:
                continue
            route = self._routes.get(("command", " ".join(words[:n]).lower()))
            if route:
                rest = text.strip().split(None, n)
                return route, rest[n] if len(rest) > n else ""
        return None

    def __iter__(self) -> Iterator[Route]:
        return iter(sorted(self._routes.values(), key=lambda r: (r.kind, r.name)))
