"""The console adapter's plugin: ``convene chat`` and the console chat deliverer."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.console import ConsoleChannel, ConsoleSession, run_chat
from bot.plugins import Plugin

if TYPE_CHECKING:
    from bot.app import Bot


class ConsolePlugin(Plugin):
    """Terminal chat."""

    name = "console"

    def setup_bot(self, bot: Bot, *, mail_given: bool) -> None:
        folder = bot.settings.mail.outbox_dir
        bot.chat_deliverers.setdefault("console", ConsoleChannel(folder))

    def cli(self, app: typer.Typer) -> None:
        @app.command("chat")
        def chat(ctx: typer.Context,
                 as_: Annotated[str, typer.Option("--as", help="Your email address in the "
                                                  "roster.")]) -> None:
            """Chat with Convene in the terminal (or pipe commands on stdin)."""
            from bot.compose import build_app
            from bot.invocation import settings_from
            from bot.members import person_by_email
            from storage.migrate import upgrade

            settings, path = settings_from(ctx)
            upgrade(settings.database_url)
            bot = build_app(settings)
            from bot.serve import seed_roster

            seed_roster(bot, config_path=path)
            with bot.session_factory() as s:
                person = person_by_email(s, as_)
                language = person.language if person is not None else "en"
            if person is None:
                from bot.errors import N_
                from bot.i18n import translator

                typer.echo(translator(settings.default_language).gettext(N_(
                    "{email} is not in the alliance roster, so I cannot act for you. Ask the "
                    "secretariat to add you (convene roster import)."), email=as_), err=True)
                raise typer.Exit(1)
            interactive = sys.stdin.isatty()
            session = ConsoleSession(dispatch=bot.dispatch, email=as_,
                                     interactive=interactive, language=language,
                                     check_form=bot.check_form)
            worker = bot.new_worker()
            worker.start()
            from bot.serve import settle_heap
            from storage.checkpoint import WalCheckpointer

            checkpointer = WalCheckpointer(bot.engine).start()  # no commit pays a checkpoint

            settle_heap()  # as serve does: no full collection pauses a reply for the start-up heap
            try:
                run_chat(session, sys.stdin, sys.stdout, interactive=interactive)
            finally:
                worker.stop()
                checkpointer.stop()
                bot.engine.dispose()


plugin = ConsolePlugin()
