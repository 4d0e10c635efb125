"""Consensus polls: proposals, stances, rounds, escalation, the decision register.

``install(reg)`` registers the chat routes (each with its capability, checked
in the proposal's group), the ``reply:poll`` route that reads ballot replies
by email, the vote-link pages (``reg.web_routes``) and the scheduled job that
closes due rounds and sends reminders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.capabilities import Capability
from bot.errors import N_

if TYPE_CHECKING:
    import typer

    from bot.registry import Registry


def install(reg: Registry) -> None:
    """Register the poll routes and the ``polls.tick`` job (a :class:`~bot.registry.Registry`)."""
    from bot.completion import titled_completer
    from storage.models import Proposal

    reg.completer(kind="poll", commands=('poll', 'vote'), capability="poll.view",
                  fn=titled_completer(Proposal, capability="poll.view"))
    from bot.polls import fast
    from bot.polls import routes as r

    add = reg.route
    add("command", "poll new", r.poll_new, capability="poll.create", scope=r.scope_new,
        help=N_("Propose something for the group to decide by consensus."),
        usage="[TITLE | TEXT | CLOSES]")
    add("form", "poll.new", r.poll_new_form, capability="poll.create", scope=r.scope_new)
    add("action", "poll.stance", r.stance_button, capability="poll.vote", scope=r.scope_value,
        fast=fast.button_fast)
    add("form", "poll.reason", r.reason_form, capability="poll.vote",
        scope=r.scope_form_context)
    from bot.polls import email_replies, web

    add("reply", "poll", email_replies.reply, capability="poll.view",
        scope=email_replies.scope_reply)
    web.install(reg)
    add("command", "vote", r.vote, capability="poll.vote", scope=r.scope_vote,
        help=N_("Take your stance on a proposal."), usage=r.VOTE_USAGE, fast=fast.vote_fast)
    add("command", "poll show", r.show, capability="poll.view", scope=r.scope_args,
        help=N_("Show a proposal and its tally."), usage="ID")
    add("command", "poll list", r.list_polls, capability="poll.view",
        help=N_("List the proposals not yet decided."))
    add("command", "poll edit", r.edit, capability="poll.create", scope=r.scope_args,
        help=N_("Change a proposal's text (voters are asked again)."), usage="ID TEXT")
    add("command", "poll comment", r.comment, capability="poll.comment", scope=r.scope_args,
        help=N_("Comment on a proposal (advisory for observers)."), usage="ID TEXT")
    add("command", "poll close", r.close, capability="poll.manage", scope=r.scope_args,
        help=N_("Close a proposal's current round now."), usage="ID")
    add("command", "poll email-round", r.email_round, capability="poll.manage",
        scope=r.scope_args, help=N_("Open round 2 of a proposal by email."), usage="ID")
    add("command", "poll determine", r.determine, capability="poll.determine",
        scope=r.scope_args, help=N_("Record the chair's determination on an escalated "
                                    "proposal."), usage="ID upheld|rejected NOTE")
    add("command", "decisions", r.decisions_cmd, capability="decisions.view",
        help=N_("Show the decision register."))
    from bot.polls.home import polls_section

    reg.home_section(polls_section, order=10)
    from bot.polls.jobs import tick
    from bot.polls.proposals import TALLY_RENDERER
    from bot.polls.rounds import render_tally

    reg.renderer(TALLY_RENDERER, render_tally)

    reg.job("polls.tick", tick, trigger="interval", seconds=reg.settings.polls.tick_seconds)


def _cli(app: typer.Typer) -> None:
    from bot.polls.cli import register_cli

    register_cli(app)


#: The registry entry (``convene.capabilities``: ``polls``).
capability = Capability(name="polls", install=install, cli=_cli, domain="polls", order=10)
