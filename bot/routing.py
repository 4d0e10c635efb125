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
dispatcher tries it first and runs the general path when it declines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.permissions import Policy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.app import Bot
    from bot.context import Context, HandlerResult
    from bot.i18n import Translator
    from bot.types import Event, Reply

RouteKind = Literal["command", "action", "form", "reply", "attendance"]
Handler = Callable[["Context"], "HandlerResult"]
Scope = Callable[["Context"], "int | None"]


@dataclass(slots=True)
class FastCall:
    """What a route's fast path is given: the bot, a session with no
    transaction begun (the fast path begins and commits its own), the event,
    the route (its ``capability`` is the one to check) and the command's
    arguments. The fast path sets ``tr`` once it knows the person, so an error
    raised after that is told in their language, as on the general path, and
    ``unsure`` before sending what may commit (a COMMIT, an autocommitted
    statement): a lost connection after that is not retried; and
    ``committed`` once its write is durable (an autocommitted statement has
    returned), so an error after that is not told as "nothing was changed"."""

    bot: Bot
    session: Session
    event: Event
    route: Route
    args: str
    tr: Translator | None = None
    unsure: bool = False
    committed: bool = False


@dataclass(slots=True)
class FastOutcome:
    """A fast path's result. ``first`` False: the event id was recorded before
    (a retry; the dispatcher drops it). Else ``replies`` and the ``after``-commit
    work, exactly as the route's handler would have produced them."""

    first: bool
    replies: list[Reply] = field(default_factory=list)
    after: list[Callable[[], None]] = field(default_factory=list)


#: ``fast(call) -> FastOutcome | None``: do the whole event (record its id,
#: resolve the actor, check the capability in the object's group, act, and
#: commit) or return None having committed nothing, when the event does not qualify (an
#: unknown person, a refusal, anything needing a form or an error message):
#: the dispatcher then runs the general path in the same unit of work, which
#: gives every refusal its sentence. It must reply exactly as the general path
#: would on the same input.
FastPath = Callable[[FastCall], "FastOutcome | None"]


class RouteError(Exception):
    """A route was registered wrongly (no capability, unknown capability, twice)."""


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of the registry.

    ``help`` is a gettext msgid shown by ``help``; ``usage`` (also a msgid, translated
    when shown: it may name words of the language) the argument
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
    """The registry. ``policy`` is used to refuse capabilities it does not know."""

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

    def command(
        self, name: str, *, capability: str, help: str = "", usage: str = "",
        scope: Scope | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator form of ``add("command", ...)``. ``name`` may be two words
        (``poll new``): the longest registered prefix of the typed text wins."""

        def deco(fn: Handler) -> Handler:
            self.add("command", name, fn, capability=capability, help=help, usage=usage,
                     scope=scope)
            return fn

        return deco

    def action(
        self, action_id: str, *, capability: str, scope: Scope | None = None
    ) -> Callable[[Handler], Handler]:
        """Decorator form of ``add("action", ...)``."""

        def deco(fn: Handler) -> Handler:
            self.add("action", action_id, fn, capability=capability, scope=scope)
            return fn

        return deco

    def form(
        self, form_id: str, *, capability: str, scope: Scope | None = None
    ) -> Callable[[Handler], Handler]:
        """Decorator form of ``add("form", ...)``."""

        def deco(fn: Handler) -> Handler:
            self.add("form", form_id, fn, capability=capability, scope=scope)
            return fn

        return deco

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
