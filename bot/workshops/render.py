"""Times in each reader's zone with the zone named, and the workshop's messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_skeleton

from bot.charts import grid_chart
from bot.errors import N_
from bot.i18n import Translator
from bot.types import (
    Actions,
    Block,
    Button,
    Field,
    Header,
    Image,
    Link,
    Message,
    Section,
    SmallPrint,
    Time,
)
from storage.models import Workshop

#: Zones shown beside the reader's own, so everyone sees the spread.
WORLD = ("Australia/Sydney", "Asia/Tokyo", "Africa/Nairobi", "Europe/Paris",
         "America/Sao_Paulo", "America/Los_Angeles")

ANSWER_LABELS = {"yes": N_("yes"), "ifneedbe": N_("if need be"), "no": N_("no")}
RSVP_LABELS = {"accepted": N_("accept"), "tentative": N_("tentative"),
               "declined": N_("decline")}
STATE_LABELS = {"finding": N_("finding a time"), "confirmed": N_("confirmed"),
                "cancelled": N_("cancelled"), "held": N_("held")}


def local_text(moment: datetime, zone: str, language: str) -> str:
    """``Thu 12 Mar 2026, 15:00 CET (Europe/Paris)`` in ``language``: the
    abbreviation *and* the IANA name, so nobody guesses which CST is meant."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    text = format_datetime(local, "EEE d MMM y, HH:mm", tzinfo=tz, locale=language)
    abbr = local.tzname() or ""
    if abbr and not abbr[0].isalpha():
        abbr = f"UTC{abbr}"
    return f"{text} {abbr} ({zone})" if zone != "UTC" else f"{text} UTC"


def when(moment: datetime, zone: str, language: str) -> Time:
    """A :class:`Time` span: adapters localise it; the fallback is ``zone``'s."""
    return Time(int(moment.timestamp()), local_text(moment, zone, language))


def world_times(moment: datetime, language: str, zones: Sequence[str] = WORLD) -> str:
    """The same instant in each of ``zones``, one per line."""
    return "\n".join(local_text(moment, z, language) for z in zones)


def workshop_message(tr: Translator, ws: Workshop, *, zone: str, counts: dict[str, int],
                     mine: str = "") -> Message:
    """The workshop card: title, state, time in the reader's zone and the
    world's, RSVP buttons (disabled when it cannot be answered)."""
    title = tr.gettext(N_("Workshop #{id}: {title}"), id=ws.id, title=ws.title)
    blocks: list[Block] = [Header(title)]
    state = tr.gettext(STATE_LABELS.get(ws.state, ws.state))
    fields = [Field(tr.gettext(N_("State")), state)]
    if ws.series.topic:
        fields.append(Field(tr.gettext(N_("Topic")), ws.series.topic))
    text: list[str | Time | Link] = []
    if ws.starts_at is not None:
        text += [tr.gettext(N_("When: ")), when(ws.starts_at, zone, tr.language)]
        if ws.join_url and ws.state == "confirmed":
            text += ["\n", Link(ws.join_url, tr.gettext(N_("Join link")))]
        blocks.append(Section(tuple(text), fields=tuple(fields)))
        blocks.append(SmallPrint(world_times(ws.starts_at, tr.language)))
    else:
        blocks.append(Section(tr.gettext(N_("No time chosen yet: answer the candidate slots "
                                            "with: workshop slots {id}"), id=ws.id),
                              fields=tuple(fields)))
    if ws.state == "confirmed":
        summary = " · ".join(f"{tr.gettext(RSVP_LABELS[k])} {counts.get(k, 0)}"
                             for k in RSVP_LABELS)
        blocks.append(SmallPrint(summary))
        blocks.append(Actions(tuple(
            Button(tr.gettext(RSVP_LABELS[k]), "workshop.rsvp", f"{ws.id}:{k}",
                   style="primary" if k == "accepted" else "default", disabled=(mine == k))
            for k in RSVP_LABELS)))
    plain = title + "\n" + state
    if ws.starts_at is not None:
        plain += "\n" + local_text(ws.starts_at, zone, tr.language)
    return Message(text=plain, blocks=tuple(blocks),
                   accent="danger" if ws.state == "cancelled" else "info")


def grid_image(tr: Translator, *, slots: Sequence[datetime], zone: str,
               rows: Sequence[tuple[str, Sequence[str]]]) -> Image:
    """The availability grid as a PNG: one column per slot (its day and time in
    ``zone``, in the reader's language), one row per person (names as
    written, accents drawn), cells ``yes``/``ifneedbe``/``no``/``none``, and a
    legend saying what each colour means."""
    tz = ZoneInfo(zone)
    columns = [format_skeleton("MMMEd", s.astimezone(tz), locale=tr.language) + "\n"
               + format_skeleton("Hm", s.astimezone(tz), locale=tr.language) for s in slots]
    legend = [(k, tr.gettext(label)) for k, label in ANSWER_LABELS.items()]
    legend.append(("none", tr.gettext(N_("no answer yet"))))
    png = grid_chart(columns=columns, rows=[r[0] for r in rows],
                     cells=[list(r[1]) for r in rows], legend=legend,
                     title=tr.gettext(N_("Availability (times in {zone})"), zone=zone))
    alt = tr.gettext(N_("Availability grid: {people} people, {slots} slots, times in {zone}."),
                     people=len(rows), slots=len(slots), zone=zone)
    return Image(url="", alt=alt, png=png)
