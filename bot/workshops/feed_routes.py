"""Chat routes of the personal calendar feed: ``workshop feed`` answers, to
the person alone, their signed feed URL (bot.workshops.feeds, signed through
bot.tokens) and how to subscribe; ``workshop feed new`` revokes every earlier
URL and answers the new one."""

from __future__ import annotations

from bot.audit import record
from bot.context import Context
from bot.types import Link, Message, Section
from bot.workshops import feeds


def _answer(ctx: Context, url: str, *, renewed: bool) -> Message:
    head = (ctx._("Your calendar feed has a new address; the old one no longer works.")
            if renewed else ctx._("Your personal calendar feed of the workshops:"))
    how = ctx._("Subscribe to it by URL in your calendar (Google Calendar: Other calendars, "
                "From URL; Outlook: Add calendar, Subscribe from web; Apple Calendar: File, "
                "New Calendar Subscription). It follows every workshop of your groups, with "
                "the join links.")
    personal = ctx._("This address is personal: do not share it. If it leaks, write: "
                     "workshop feed new")
    return Message(f"{head}\n{url}\n\n{how}\n\n{personal}",
                   blocks=(Section((head, " ", Link(url, url))), Section(how),
                           Section(personal)))


def feed_cmd(ctx: Context) -> Message:
    """``workshop feed``: the person's feed URL, privately (every role)."""
    return _answer(ctx, feeds.feed_url(ctx.session, ctx.settings, ctx.who.id),
                   renewed=False)


def feed_new_cmd(ctx: Context) -> Message:
    """``workshop feed new``: revoke the person's earlier feed URLs; the new one."""
    version = feeds.revoke(ctx.session, ctx.who.id)
    record(session=ctx.session, actor=ctx.auth, action="workshop.feed.revoke",
           subject_type="person", subject_id=ctx.who.id, version=version)
    return _answer(ctx, feeds.feed_url(ctx.session, ctx.settings, ctx.who.id),
                   renewed=True)
