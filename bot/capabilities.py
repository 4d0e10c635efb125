"""The capability registry: every capability declares itself here, once.

A capability is a package ``bot/<name>/`` (or any installed package) with one
shape: chat routes, scheduled jobs, home sections and HTTP routes registered
through the :class:`~bot.registry.Registry` given to its ``install(reg)``;
CLI commands by ``cli(app)``; its models under ``storage/models/``; its
templates beside its code; its message catalog
``bot/locale/<lang>/<domain>.po``. The package exposes a :class:`Capability`
and names it in the ``convene.capabilities`` entry-point group of its
distribution's ``pyproject.toml``::

    [project.entry-points."convene.capabilities"]
    polls = "bot.polls:capability"

Discovery is loud: a capability named in ``[core] capabilities`` that is not
installed, an entry point that fails to import, or one whose object is not a
:class:`Capability` of the same name stops start-up with the name and the
reason (:class:`CapabilityError`). Nothing is skipped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

    from bot.registry import Registry

GROUP = "convene.capabilities"


class CapabilityError(Exception):
    """A capability could not be found or loaded; the message names it and the fix."""


@dataclass(frozen=True, slots=True)
class Capability:
    """One capability's declaration.

    ``name``: the entry-point name (``polls``); ``install(reg)`` registers its
    routes (each with a capability from the policy table), jobs, home sections,
    completers, renderers and web routes through the verbs of the
    :class:`~bot.registry.Registry` it is given (``reg.settings`` is the
    configuration); ``cli(app)`` adds its ``convene`` subcommands;
    ``domain`` is its gettext catalog (``bot/locale/<lang>/<domain>.po``);
    ``order`` sorts installation (lower first) so help lists are stable.
    """

    name: str
    install: Callable[[Registry], None]
    cli: Callable[[typer.Typer], None] | None = None
    domain: str = ""
    order: int = 100


def discover(enabled: Sequence[str] | None = None) -> list[Capability]:
    """The installed capabilities, sorted by ``(order, name)``.

    ``enabled``: the names to load (``None``: every installed one). Raises
    :class:`CapabilityError` for a name that is not installed (with the ones
    that are), an entry point that fails to import, or an object that is not a
    :class:`Capability` named like its entry point.
    """
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    names = sorted(found) if enabled is None else list(dict.fromkeys(enabled))
    unknown = [n for n in names if n not in found]
    if unknown:
        raise CapabilityError(
            f"unknown capability {', '.join(repr(n) for n in unknown)} in [core] capabilities; "
            f"installed: {', '.join(sorted(found)) or 'none'} (check the spelling, or install "
            f"the package that declares it in the {GROUP!r} entry-point group)")
    out: list[Capability] = []
    for name in names:
        ep = found[name]
        try:
            obj = ep.load()
        except Exception as exc:
            raise CapabilityError(
                f"capability {name!r} ({ep.value}) failed to load: "
                f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(obj, Capability):
            raise CapabilityError(
                f"capability {name!r} ({ep.value}) is a {type(obj).__name__}, "
                "not a bot.capabilities.Capability")
        if obj.name != name:
            raise CapabilityError(
                f"capability entry point {name!r} ({ep.value}) declares the name {obj.name!r}")
        out.append(obj)
    return sorted(out, key=lambda c: (c.order, c.name))
