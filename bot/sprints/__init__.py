"""Innovation sprints: proposals and approval, sign-ups with roles, capacity
and per-organisation caps, fair waitlists with expiring single-use offers,
co-funding pledges with an all-or-nothing minimum, and interest matching.

``install(reg)`` registers the chat routes (each with its capability from
the policy table, checked in the sprint's group), the ``sprints.tick`` job
(expired offers passed on, funding deadlines settled), the weekly
``sprints.nudge``, the home section and the offer / sign-up link pages.
Its catalog is ``bot/locale/<lang>/sprints.po``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.capabilities import Capability
from bot.errors import N_

if TYPE_CHECKING:
    import typer

    from bot.registry import Registry


def install(reg: Registry) -> None:
    """Register the sprint routes, jobs, home section and web pages."""
    from bot.completion import titled_completer
    from storage.models import Sprint

    reg.completer(kind="sprint", commands=('sprint',), capability="sprint.view",
                  fn=titled_completer(Sprint, capability="sprint.view"))
    from bot.sprints import chat as c
    from bot.sprints import manage as m

    add = reg.route
    add("command", "sprint propose", m.propose_cmd, capability="sprint.propose",
        help=N_("Propose an innovation sprint (a form, or one line)."),
        usage=m.PROPOSE_USAGE)
    add("form", "sprint.propose", m.propose_submitted, capability="sprint.propose")
    add("command", "sprint list", m.list_cmd, capability="sprint.view",
        help=N_("List the sprints open or proposed."))
    add("command", "sprint show", c.show_cmd, capability="sprint.view", scope=c.scope_args,
        help=N_("Show a sprint: seats, waitlist, pledges."), usage="ID")
    from bot.sprints.fast import join_fast

    add("command", "sprint join", c.join_cmd, capability="sprint.signup", scope=c.scope_args,
        help=N_("Sign up for a sprint (a seat, or the waitlist when full)."),
        usage=c.JOIN_USAGE, fast=join_fast)
    add("action", "sprint.join", c.join_button, capability="sprint.signup",
        scope=c.scope_value, fast=join_fast)
    add("command", "sprint leave", c.leave_cmd, capability="sprint.signup", scope=c.scope_args,
        help=N_("Leave a sprint or its waitlist (your seat goes to the next in line)."),
        usage="ID")
    add("command", "sprint accept", c.accept_cmd, capability="sprint.signup",
        scope=c.scope_args, help=N_("Accept the seat offered to you."), usage="ID")
    add("command", "sprint decline", c.decline_cmd, capability="sprint.signup",
        scope=c.scope_args, help=N_("Decline the seat offered to you."), usage="ID")
    add("action", "sprint.offer", c.offer_button, capability="sprint.signup",
        scope=c.scope_offer)
    add("command", "sprint position", c.position_cmd, capability="sprint.view",
        scope=c.scope_args, help=N_("Your seat, offer or place in a sprint's waitlist."),
        usage="ID")
    add("command", "sprint follow", c.follow_cmd, capability="sprint.follow",
        scope=c.scope_args, help=N_("Follow a sprint's updates (observers too)."), usage="ID")
    add("command", "sprint unfollow", c.unfollow_cmd, capability="sprint.follow",
        scope=c.scope_args, help=N_("Stop following a sprint."), usage="ID")
    add("action", "sprint.follow", c.follow_button, capability="sprint.follow",
        scope=c.scope_value)
    add("command", "sprint pledge", m.pledge_cmd, capability="sprint.pledge",
        scope=c.scope_args, help=N_("Pledge co-funding to a sprint."),
        usage="ID [AMOUNT CURRENCY]")
    add("action", "sprint.pledge", m.pledge_button, capability="sprint.pledge",
        scope=c.scope_value)
    add("form", "sprint.pledge", m.pledge_submitted, capability="sprint.pledge",
        scope=c.scope_form)
    add("command", "sprint unpledge", m.unpledge_cmd, capability="sprint.pledge",
        scope=c.scope_args, help=N_("Withdraw your pledge before the deadline."), usage="ID")
    add("command", "sprint approve", m.approve_cmd, capability="sprint.manage",
        scope=c.scope_args, help=N_("Approve a proposed sprint and announce it."), usage="ID")
    add("command", "sprint reject", m.reject_cmd, capability="sprint.manage",
        scope=c.scope_args, help=N_("Decline a proposed sprint, with the reason."),
        usage="ID REASON")
    add("command", "sprint cancel", m.cancel_cmd, capability="sprint.manage",
        scope=c.scope_args, help=N_("Cancel a sprint; open offers become void."),
        usage="ID REASON")
    add("command", "sprint priority", m.priority_cmd, capability="sprint.manage",
        scope=c.scope_args, help=N_("Set a waitlisted person's priority."),
        usage="ID EMAIL NUMBER")
    add("command", "interests", c.interests_cmd, capability="roster.self",
        help=N_("Show or set the scope topics you want sprint news about."),
        usage="[set TOPIC, TOPIC]")
    from bot.sprints.home import sprints_section
    from bot.sprints.web import install_pages

    reg.home_section(sprints_section, order=40)
    install_pages(reg)
    from bot.sprints import jobs

    cfg = reg.settings.sprints
    reg.job("sprints.tick", jobs.tick, trigger="interval", seconds=cfg.tick_seconds)
    # The documented zone of the nudge's day and hour is UTC, whatever the host's.
    reg.job("sprints.nudge", jobs.nudge, trigger="cron", day_of_week=cfg.nudge_day,
            hour=cfg.nudge_hour, minute=0, timezone="UTC", tick_arg="tick")


def _cli(app: typer.Typer) -> None:
    from bot.sprints.cli import register_cli

    register_cli(app)


#: The registry entry (``convene.capabilities``: ``sprints``).
capability = Capability(name="sprints", install=install, cli=_cli, domain="sprints", order=40)
