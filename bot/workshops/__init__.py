"""Quarterly virtual workshops across time zones: series, candidate slots,
availability (chat buttons, a signed web page), a fair recommendation with a
burden ledger, invites every calendar accepts (RFC 5545/5546), RSVPs from any
path, reminders as due rows, agendas, notes and action items.

``install(reg)`` registers the routes (each with a capability from the policy
table, checked in the workshop's group), the web pages, the home section and
the ``workshops.tick`` (reminders) and ``workshops.agenda`` (circulation)
jobs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.capabilities import Capability
from bot.errors import N_

if TYPE_CHECKING:
    import typer

    from bot.registry import Registry


def install(reg: Registry) -> None:
    """Register the workshop routes, pages, home section and jobs."""
    from bot.completion import titled_completer
    from storage.models import Workshop

    reg.completer(kind="workshop", commands=('workshop',), capability="workshop.view",
                  fn=titled_completer(Workshop, capability="workshop.view"))
    from bot.workshops import agenda_routes as a
    from bot.workshops import attendees as at
    from bot.workshops import feed_routes as f
    from bot.workshops import replies as rp
    from bot.workshops import routes as r

    add = reg.route
    add("command", "workshop series new", r.series_new, capability="workshop.manage",
        help=N_("Start a workshop series (quarterly or annual)."), usage=r.SERIES_USAGE)
    add("command", "workshop open", r.open_cmd, capability="workshop.manage",
        scope=r.scope_series, help=N_("Open a series' workshop for a quarter."),
        usage="SERIES 2026-Q2")
    add("command", "workshop slot add", r.slot_add, capability="workshop.manage",
        scope=r.scope_args, help=N_("Propose a candidate time."),
        usage="ID YYYY-MM-DD HH:MM [Zone/Name]")
    add("command", "workshop slots", r.slots_cmd, capability="workshop.attend",
        scope=r.scope_args, help=N_("Show the candidate times and answer them."), usage="ID")
    add("command", "workshop answer", r.answer_cmd, capability="workshop.attend",
        scope=r.scope_args, help=N_("Answer one candidate time."),
        usage="ID SLOT yes|ifneedbe|no")
    add("action", "workshop.avail", r.avail_button, capability="workshop.attend",
        scope=r.scope_value)
    add("form", "workshop.availability", r.availability_form, capability="workshop.attend",
        scope=r.scope_form)
    add("command", "workshop recommend", r.recommend_cmd, capability="workshop.view",
        scope=r.scope_args, help=N_("Rank the candidate times, and say why."), usage="ID")
    add("command", "workshop confirm", r.confirm_cmd, capability="workshop.manage",
        scope=r.scope_args, help=N_("Fix the time and send the invitations."),
        usage="ID [SLOT]")
    add("command", "workshop reschedule", r.reschedule_cmd, capability="workshop.manage",
        scope=r.scope_args, help=N_("Move a confirmed workshop (updates every calendar)."),
        usage="ID YYYY-MM-DD HH:MM [Zone/Name]")
    add("command", "workshop cancel", r.cancel_cmd, capability="workshop.manage",
        scope=r.scope_args, help=N_("Cancel a workshop (removes it from every calendar)."),
        usage="ID")
    add("command", "workshop rsvp", r.rsvp_cmd, capability="workshop.attend",
        scope=r.scope_args, help=N_("Answer an invitation."),
        usage="ID accept|tentative|decline")
    add("action", "workshop.rsvp", r.rsvp_button, capability="workshop.attend",
        scope=r.scope_value)
    add("command", "workshop show", r.show_cmd, capability="workshop.view",
        scope=r.scope_args, help=N_("Show a workshop, its time in your zone and the "
                                    "world's."), usage="ID")
    add("command", "workshop list", r.list_cmd, capability="workshop.view",
        help=N_("List the workshops."))
    add("command", "workshop attendees", at.attendees_cmd, capability="workshop.manage",
        scope=r.scope_args, help=N_("Who answered what, by role."), usage="ID")
    add("command", "workshop lead", r.lead_cmd, capability="workshop.lead",
        scope=r.scope_args, help=N_("Lead a workshop (its time must suit you)."), usage="ID")
    add("command", "workshop ledger", r.ledger_cmd, capability="workshop.manage",
        scope=r.scope_series, help=N_("The burden ledger: who was asked at which hour."),
        usage="SERIES")
    add("command", "workshop agenda add", a.agenda_add, capability="workshop.attend",
        scope=r.scope_args, help=N_("Propose an agenda item."), usage="ID TEXT")
    add("command", "workshop agenda", a.agenda_show, capability="workshop.view",
        scope=r.scope_args, help=N_("Show a workshop's agenda."), usage="ID")
    add("command", "workshop agenda order", a.agenda_order, capability="workshop.manage",
        scope=r.scope_args, help=N_("Accept and order the agenda."), usage="ID 3,1,2")
    add("command", "workshop agenda publish", a.agenda_publish, capability="workshop.manage",
        scope=r.scope_args, help=N_("Circulate the agenda by email."), usage="ID")
    add("command", "workshop notes", a.notes_cmd, capability="workshop.manage",
        scope=r.scope_args, help=N_("Record a workshop's notes."), usage="ID TEXT")
    add("command", "workshop action add", a.action_add, capability="workshop.manage",
        scope=r.scope_args, help=N_("Record an action item with its owner and due date."),
        usage="ID OWNER_EMAIL YYYY-MM-DD [HH:MM] | TEXT")
    add("command", "workshop action done", a.action_done, capability="workshop.attend",
        help=N_("Close one of your action items."), usage="ACTION")
    add("command", "workshop actions", a.actions_cmd, capability="workshop.attend",
        help=N_("Your open action items (the secretariat: everyone's; 'mine' for yours)."),
        usage="[mine]")
    add("command", "workshop feed", f.feed_cmd, capability="workshop.attend",
        help=N_("Your personal calendar feed URL, to subscribe to (private)."))
    add("command", "workshop feed new", f.feed_new_cmd, capability="workshop.attend",
        help=N_("A new feed URL: every earlier one stops working."))
    add("reply", "workshop", rp.workshop_reply, capability="workshop.attend")
    add("reply", "calendar", rp.calendar_reply, capability="workshop.attend")
    add("attendance", "workshop", rp.attendance, capability="workshop.attend",
        scope=rp.scope_attendance)
    from bot.workshops.home import workshops_section
    from bot.workshops.web import workshop_routes

    reg.home_section(workshops_section, order=30)
    reg.web_routes(workshop_routes)
    from bot.workshops.jobs import agenda, tick

    every = reg.settings.workshops.tick_seconds
    reg.job("workshops.tick", tick, trigger="interval", seconds=every)
    reg.job("workshops.agenda", agenda, trigger="interval", seconds=every)


def _cli(app: typer.Typer) -> None:
    from bot.workshops.cli import register_cli

    register_cli(app)


#: The registry entry (``convene.capabilities``: ``workshops``).
capability = Capability(name="workshops", install=install, cli=_cli, domain="workshops",
                        order=30)
