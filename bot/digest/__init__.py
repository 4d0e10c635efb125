"""The weekly press review: feeds in, about ten themed articles out.

The pipeline (fetching, parsing, clustering, classifying, ranking, rendering)
is :mod:`digests`; this package is the capability around it: the service
that builds and sends a week (``service``), the chat routes and weekly job
(``routes``), the ``convene digest`` and ``convene feeds`` CLI (``cli``) and
the home section (``home``). Its catalog is ``bot/locale/<lang>/digest.po``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.capabilities import Capability

if TYPE_CHECKING:
    import typer

    from bot.registry import Registry


def _install(reg: Registry) -> None:
    from bot.digest.routes import install

    install(reg)


def _cli(app: typer.Typer) -> None:
    from bot.digest.cli import register_cli

    register_cli(app)


#: The registry entry (``convene.capabilities``: ``digest``).
capability = Capability(name="digest", install=_install, cli=_cli, domain="digest", order=20)
