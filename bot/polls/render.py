"""The tally as a platform-neutral Message, with a picture of it.

The picture is twice over: a PNG chart (matplotlib, :mod:`bot.charts`) as an
Image block (for adapters that show images) and a bar drawn in text (for
terminals and chat).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

from bot.charts import Segment, stacked_bar
from bot.errors import N_
from bot.i18n import Translator, translator
from bot.polls.stances import STANCE_LABELS, STANCES, Tally
from bot.types import (
    Actions,
    Block,
    Button,
    Field,
    Header,
    Image,
    Message,
    Preformatted,
    Section,
    SmallPrint,
)
from bot.types import time_token as _time_token
from storage.models import Proposal, Round

COLOURS = {"agree": "#2e7d32", "abstain": "#9e9e9e", "disagree": "#ef6c00", "block": "#c62828"}
BAR_WIDTH = 20

STATE_LABELS = {
    "open": N_("open"),
    "failed": N_("no consensus yet"),
    "escalated": N_("escalated to the chair"),
    "decided": N_("decided"),
}
OUTCOME_LABELS = {
    "consensus": N_("consensus reached"),
    "not_reached": N_("consensus not reached"),
    "upheld": N_("upheld by the chair"),
    "rejected": N_("rejected by the chair"),
}


def text_bar(t: Tally, tr: Translator) -> str:
    """One line per stance: label, a bar of ``BAR_WIDTH`` cells scaled to the
    eligible units, and the count."""
    lines = []
    scale = max(t.eligible, t.cast, 1)
    width = max(len(tr.gettext(STANCE_LABELS[s])) for s in STANCES)
    for s in STANCES:
        n = t.counts.get(s, 0)
        cells = round(BAR_WIDTH * n / scale)
        if n and not cells:
            cells = 1
        label = tr.gettext(STANCE_LABELS[s]).ljust(width)
        lines.append(f"{label} {'█' * cells}{'·' * (BAR_WIDTH - cells)} {n}")
    return "\n".join(lines)


def png_chart(t: Tally, tr: Translator) -> bytes:
    """The tally as a picture (PNG bytes): one bar of the eligible voting units
    split by stance, the rest "not yet answered", a legend naming each stance
    with its count and a caption with the quorum, in the reader's language.
    The same figures in the same language are drawn once (a card refreshed
    for every channel it is posted in draws one picture)."""
    return _tally_png(tuple(t.counts.get(s, 0) for s in STANCES), t.eligible, t.quorum_needed,
                      tr.language)


@lru_cache(maxsize=256)
def _tally_png(counts: tuple[int, ...], eligible: int, needed: int, language: str) -> bytes:
    tr = translator(language)

    def n(value: int) -> str:
        return format_decimal(value, locale=language)

    segments = [Segment(tr.gettext(N_("{stance}: {count}"), stance=tr.gettext(STANCE_LABELS[s]),
                                   count=n(c)), c, s) for s, c in zip(STANCES, counts,
                                                                      strict=True)]
    cast = sum(counts)
    segments.append(Segment(tr.gettext(N_("Not yet answered: {count}"),
                                       count=n(max(eligible - cast, 0))), 0, "none"))
    caption = tr.gettext(N_("{cast} of {eligible} voting units ({needed} needed)"),
                         cast=n(cast), eligible=n(eligible), needed=n(needed))
    return stacked_bar(segments, total=max(eligible, cast, 1), caption=caption)


def when(moment: datetime, zone: str) -> str:
    """``moment`` (aware) as a time token whose fallback is in ``zone``."""
    local = moment.astimezone(ZoneInfo(zone))
    return _time_token(moment, local.strftime("%Y-%m-%d %H:%M ") + zone)


def tally_message(
    *,
    tr: Translator,
    proposal: Proposal,
    rnd: Round,
    t: Tally,
    text: str,
    zone: str = "UTC",
    closed: bool = False,
    can_vote: bool = True,
) -> Message:
    """The proposal with its tally: header, text, fields, the chart, the text bar,
    names and reasons (live visibility, or once closed), a notice once the text
    has changed, and one button per stance while the round is open
    (``action_id="poll.stance"``, ``value="<id>:<round>:<version>:<stance>"``)
    unless ``can_vote`` is False (a reader who may not vote is shown none)."""
    show_names = proposal.visibility == "live" or closed
    summary = " · ".join(f"{tr.gettext(STANCE_LABELS[s])} {t.counts.get(s, 0)}"
                         for s in STANCES)
    title = tr.gettext(N_("Proposal #{id}: {title}"), id=proposal.id, title=proposal.title)
    status = tr.gettext(OUTCOME_LABELS[proposal.outcome]) if proposal.outcome else \
        tr.gettext(STATE_LABELS.get(proposal.state, proposal.state))
    round_field = tr.gettext(N_("{round} (in chat)"), round=rnd.number) \
        if rnd.medium == "chat" else tr.gettext(N_("{round} (by email)"), round=rnd.number)
    fields = (
        Field(tr.gettext(N_("Round")), round_field),
        Field(tr.gettext(N_("Status")), status),
        Field(tr.gettext(N_("Closes")) if not closed else tr.gettext(N_("Closed")),
              when(rnd.closed_at or rnd.closes_at, zone)),
        Field(tr.gettext(N_("Text version")), str(proposal.version)),
        Field(tr.gettext(N_("Quorum")), tr.gettext(
            N_("{cast} of {eligible} voting units ({needed} needed)"), cast=t.cast,
            eligible=t.eligible, needed=t.quorum_needed)),
    )
    blocks: list[Block] = [Header(title), Section(text, fields=fields),
                           Image("", tr.gettext(N_("Tally: {summary}"), summary=summary),
                                 png=png_chart(t, tr)),
                           Preformatted(text_bar(t, tr))]
    if show_names:
        for s in STANCES:
            if t.names.get(s):
                blocks.append(SmallPrint(f"{tr.gettext(STANCE_LABELS[s])}: "
                                      + ", ".join(t.names[s])))
        reasons = [tr.gettext(N_("Block by {name}: {reason}"), name=n, reason=r)
                   for n, r in t.blocks]
        reasons += [tr.gettext(N_("Disagree by {name}: {reason}"), name=n, reason=r)
                    for n, r in t.dissent]
        if reasons:
            blocks.append(Section("\n".join(reasons)))
    else:
        blocks.append(SmallPrint(tr.gettext(N_("Stances are hidden until the round closes; "
                                            "only counts are shown."))))
    if proposal.version > 1 and not closed:
        blocks.append(SmallPrint(tr.gettext(
            N_("The text has changed: this is version {version}. Stances on an earlier "
               "version no longer count; if you took one, please take your stance again."),
            version=proposal.version)))
    if not closed and proposal.state == "open" and can_vote:
        blocks.append(Actions(tuple(
            Button(tr.gettext(STANCE_LABELS[s]), "poll.stance",
                   f"{proposal.id}:{rnd.number}:{proposal.version}:{s}",
                   style="primary" if s == "agree" else "danger" if s == "block"
                   else "default")
            for s in STANCES)))
        blocks.append(SmallPrint(tr.gettext(
            N_("Or type: vote {id} agree|abstain|disagree|block [reason]"), id=proposal.id)))
    fallback = f"{title}: {summary} ({status})"
    return Message(text=fallback, blocks=tuple(blocks))
