"""The composition root: a :class:`~bot.registry.Registry` filled by the core
and every capability, composed with the services into a :class:`~bot.app.Bot`.

``build_app(settings)`` wires storage, the policy, the mail transport, every
capability's ``install(reg)`` and every plugin's ``setup_bot``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from bot.app import Bot
from bot.mail import FileMailTransport, MailTransport
from bot.permissions import Policy
from bot.registry import Registry
from bot.settings import Settings
from storage.engine import make_engine, make_session_factory

#: ``install(reg)``: the core's or a capability's registrations.
Installer = Callable[[Registry], None]


def default_installers(settings: Settings | None = None) -> list[Installer]:
    """The core's routes, then every capability's ``install`` from the registry
    (:mod:`bot.capabilities`), limited to ``settings.capabilities`` when set.
    Raises CapabilityError for a capability that is missing or fails to load."""
    from bot.capabilities import discover
    from bot.commands import install as core_install

    enabled = settings.capabilities if settings is not None else None
    return [core_install, *(cap.install for cap in discover(enabled))]


def build_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    mail: MailTransport | None = None,
    policy: Policy | None = None,
    installers: list[Installer] | None = None,
    plugins: bool = True,
) -> Bot:
    """Wire the core. ``engine`` defaults to one for ``settings.database_url``;
    ``mail`` to the SMTP transport of the email plugin when ``[smtp] host`` is
    set, else .eml files under ``[mail] outbox_dir``; ``installers`` to
    :func:`default_installers`, each called with the one Registry. Plugins
    (adapters) found through the ``convene.plugins`` entry point group may add
    deliverers and replace the mail transport."""
    engine = engine or make_engine(settings.database_url)
    registry = Registry(settings=settings, policy=policy or Policy())
    for install in installers if installers is not None else default_installers(settings):
        install(registry)
    bot = Bot(settings=settings, engine=engine, session_factory=make_session_factory(engine),
              registry=registry, mail=mail or FileMailTransport(settings.mail.outbox_dir))
    if plugins:
        from bot.plugins import load_plugins

        for plugin in load_plugins():
            plugin.setup_bot(bot, mail_given=mail is not None)
    return bot
