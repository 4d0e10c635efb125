"""Chat routes of a person's own place in sprints: ``sprint join|leave|
accept|decline|position|follow|unfollow``, the ``sprint.join``,
``sprint.offer`` and ``sprint.follow`` buttons, and ``interests [set ...]``.

Every route's capability is checked by the dispatcher in the group of the
sprint its input names (the scopes below); button values and link tokens are
untrusted input, read again here every time.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.context import Context
from bot.errors import N_, InvalidInput, NotFound, PermissionDenied
from bot.i18n import Translator
from bot.members import person_by_email
from bot.numbers import digits, fits
from bot.permissions import authorize
from bot.sprints import offers, seats
from bot.sprints.common import (
    find_sprint,
    local,
    parse_topics,
    sprint_group,
    sprint_id,
    topic_keys,
    topic_label,
)
from bot.sprints.render import sprint_message
from bot.types import Actions, Button, Message, Reply, Section
from storage.base import utcnow
from storage.models import Person, SprintFollower, SprintOffer

JOIN_USAGE = "ID [lead] [with EMAIL, EMAIL]"


# --- scopes ----------------------------------------------------------------------

def scope_args(ctx: Context) -> int:
    """The group of the sprint named by the first argument."""
    words = ctx.args.split()
    if not words:
        raise InvalidInput(N_("Name the sprint by its number, e.g. 3."))
    return sprint_group(ctx.session, words[0])


def scope_value(ctx: Context) -> int:
    """The group of the sprint named in a button value ``<id>[:...]``."""
    return sprint_group(ctx.session, ctx.value.split(":", 1)[0])


def scope_offer(ctx: Context) -> int:
    """The group of the sprint of the offer in a value ``<offer id>:accept|decline``."""
    raw = ctx.value.split(":", 1)[0]
    oid = digits(raw)
    offer = ctx.session.get(SprintOffer, oid) if oid is not None and fits(oid) else None
    if offer is None:
        raise NotFound(N_("There is no such offer."))
    return sprint_group(ctx.session, offer.sprint_id)


def scope_form(ctx: Context) -> int:
    """The group of the sprint named in a form's context."""
    f = ctx.form
    return sprint_group(ctx.session, f.context if f else "")


# --- joining and leaving ----------------------------------------------------------

def _companions(ctx: Context, text: str, group_id: int) -> tuple[Person, ...]:
    out: list[Person] = []
    for raw in filter(None, (w.strip() for w in text.replace(";", ",").split(","))):
        person = person_by_email(ctx.session, raw)
        if person is None:
            raise NotFound(N_("{email} is not in the roster."), email=raw)
        try:
            authorize(session=ctx.session, person=person, capability="sprint.signup",
                      group_id=group_id, channel=ctx.channel, policy=ctx.policy)
        except PermissionDenied:
            raise PermissionDenied(N_("{name} cannot take part in this sprint's sign-ups: only "
                                      "members of its group can (observers may follow it)."),
                                   name=person.name) from None
        out.append(person)
    return tuple(out)


def _join(ctx: Context, raw_id: str, role: str, with_text: str = "") -> Message:
    # The scope resolver found the sprint and ctx.auth holds its group; the
    # sprint itself is read once, under its lock, by seats.join.
    sid, group_id = sprint_id(raw_id), ctx.auth.group_id
    assert group_id is not None, "sign-up routes are scoped to the sprint's group"
    auth = ctx.authorize("sprint.lead", group_id=group_id) if role == "lead" else ctx.auth
    result = seats.join(ctx.session, actor=auth, sprint_id=sid,
                        person=seats.joiner(ctx.session, ctx.who.id),
                        role=role, companions=_companions(ctx, with_text, group_id),
                        settings=ctx.settings, now=utcnow(), channel=ctx.channel)
    return joined_message(ctx.tr, sid, result)


def joined_message(tr: Translator, sid: int, result: seats.Joined) -> Message:
    """What a person who signed up for sprint ``sid`` is told, in ``tr``'s
    language (the general path and the fast path, bot/sprints/fast.py)."""
    if result.status == "seated":
        return Message(tr.gettext(N_("You have seat {seats} in sprint #{id}, {title}."),
                                  seats=", ".join(map(str, result.seats)), id=sid,
                                  title=result.title), accent="success")
    if result.capped:
        return Message(tr.gettext(N_("{organisation} already holds the most seats one "
                                     "organisation may have in sprint #{id}, so you are "
                                     "waiting: number {position} in the waitlist. You will be "
                                     "offered a seat when one fits."),
                                  organisation=result.capped, id=sid,
                                  position=result.position), accent="warning")
    return Message(tr.gettext(N_("Sprint #{id} is full, so you are on the waitlist: number "
                                 "{position}. When a seat frees you will be offered it for a "
                                 "limited time."), id=sid, position=result.position),
                   accent="warning")


def join_cmd(ctx: Context) -> Message:
    """``sprint join ID [lead] [with EMAIL, EMAIL]``."""
    words = ctx.args.split(None, 1)
    if not words:
        raise InvalidInput(N_("Write: sprint join {usage}"), usage=JOIN_USAGE)
    rest = words[1] if len(words) > 1 else ""
    role = "contributor"
    if rest.split(None, 1)[:1] == ["lead"]:
        role, rest = "lead", rest[4:].strip()
    with_text = ""
    if rest.lower().startswith("with "):
        with_text = rest[5:]
    elif rest:
        raise InvalidInput(N_("Write: sprint join {usage}"), usage=JOIN_USAGE)
    return _join(ctx, words[0], role, with_text)


def join_button(ctx: Context) -> Message:
    """``sprint.join`` button or select: value ``<sprint id>:contributor|lead``."""
    raw, _, role = ctx.value.partition(":")
    if role not in seats.ROLES:
        raise InvalidInput(N_("That button or form is no longer recognised."))
    return _join(ctx, raw, role)


def leave_cmd(ctx: Context) -> Message:
    """``sprint leave ID``: a seat returns to the sprint and is offered on."""
    sprint = find_sprint(ctx.session, ctx.args.split()[0])
    was = seats.leave(ctx.session, actor=ctx.auth, sprint_id=sprint.id, person=ctx.person,
                      settings=ctx.settings, now=utcnow())
    if was == "waitlisted":
        return Message(ctx._("You left the waitlist of sprint #{id}.", id=sprint.id))
    return Message(ctx._("You left sprint #{id}; your seat goes to the next person in line.",
                         id=sprint.id))


# --- offers -----------------------------------------------------------------------

def _answer(ctx: Context, offer_id: int, choice: str) -> Message:
    if choice not in ("accept", "decline"):
        raise InvalidInput(N_("That button or form is no longer recognised."))
    offer = offers.answer(ctx.session, actor=ctx.auth, offer_id=offer_id,
                          person_id=ctx.who.id, choice="accept" if choice == "accept"
                          else "decline", settings=ctx.settings, now=utcnow())
    if choice == "accept":
        return Message(ctx._("Accepted: your seat in sprint #{id} is yours.",
                             id=offer.sprint_id), accent="success")
    return Message(ctx._("Declined: the seat in sprint #{id} goes to the next person in line.",
                         id=offer.sprint_id))


def offer_button(ctx: Context) -> Message:
    """``sprint.offer`` buttons: value ``<offer id>:accept|decline``."""
    raw, _, choice = ctx.value.partition(":")
    oid = digits(raw)
    if oid is None:
        raise InvalidInput(N_("That button or form is no longer recognised."))
    return _answer(ctx, oid, choice)


def _offer_cmd(ctx: Context, choice: str) -> Message:
    sid = sprint_id(ctx.args.split()[0])
    offer = offers.open_offer(ctx.session, sprint_id=sid, person_id=ctx.who.id)
    if offer is None:
        raise NotFound(N_("You have no open offer in sprint #{id}."), id=sid)
    return _answer(ctx, offer.id, choice)


def accept_cmd(ctx: Context) -> Message:
    """``sprint accept ID``: take the seat held for you."""
    return _offer_cmd(ctx, "accept")


def decline_cmd(ctx: Context) -> Message:
    """``sprint decline ID``: let the held seat go to the next person at once."""
    return _offer_cmd(ctx, "decline")


def position_cmd(ctx: Context) -> Message:
    """``sprint position ID``: your seat, your offer (with buttons) or your place."""
    sprint = find_sprint(ctx.session, ctx.args.split()[0])
    row = seats.signup_of(ctx.session, sprint.id, ctx.who.id)
    if row is None or row.status in ("withdrawn", "declined", "expired"):
        return Message(ctx._("You are not signed up for sprint #{id}.", id=sprint.id))
    if row.status == "seated":
        return Message(ctx._("You have seat {seats} in sprint #{id}, {title}.",
                             seats=str(row.seat), id=sprint.id, title=sprint.title))
    if row.status == "offered":
        offer = offers.open_offer(ctx.session, sprint_id=sprint.id, person_id=ctx.who.id)
        if offer is not None:
            text = ctx._("A seat in sprint #{id} is held for you until {when}.", id=sprint.id,
                         when=local(offer.expires_at, ctx.person.timezone))
            return Message(text, blocks=(Section(text), Actions((
                Button(ctx._("Accept"), "sprint.offer", f"{offer.id}:accept", "primary"),
                Button(ctx._("Decline"), "sprint.offer", f"{offer.id}:decline", "danger")))))
        return Message(ctx._("A seat in sprint #{id} is being offered to your party.",
                             id=sprint.id))
    return Message(ctx._("You are number {position} in the waitlist of sprint #{id}.",
                         position=seats.position(ctx.session, row), id=sprint.id))


# --- following ------------------------------------------------------------------------

def _follow(ctx: Context, raw: str, on: bool) -> Message:
    sprint = find_sprint(ctx.session, raw)
    if on:
        exists = ctx.session.scalar(select(SprintFollower.id).where(
            SprintFollower.sprint_id == sprint.id, SprintFollower.person_id == ctx.who.id))
        if exists is None:
            ctx.session.add(SprintFollower(sprint_id=sprint.id, person_id=ctx.who.id))
        return Message(ctx._("You follow sprint #{id} and will get its updates.",
                             id=sprint.id))
    ctx.session.execute(delete(SprintFollower).where(SprintFollower.sprint_id == sprint.id,
                                                     SprintFollower.person_id == ctx.who.id))
    return Message(ctx._("You no longer follow sprint #{id}.", id=sprint.id))


def follow_cmd(ctx: Context) -> Message:
    """``sprint follow ID`` (everyone, observers too)."""
    return _follow(ctx, ctx.args.split()[0], True)


def unfollow_cmd(ctx: Context) -> Message:
    """``sprint unfollow ID``."""
    return _follow(ctx, ctx.args.split()[0], False)


def follow_button(ctx: Context) -> Message:
    """``sprint.follow`` button: value ``<sprint id>``."""
    return _follow(ctx, ctx.value, True)


# --- interests -------------------------------------------------------------------------

def interests_cmd(ctx: Context) -> Message | list[Reply]:
    """``interests`` shows yours and the topics; ``interests set A, B`` (keys or
    numbers) replaces them; ``interests set none`` clears them."""
    words = ctx.args.split(None, 1)
    person = ctx.person
    if words[:1] == ["set"]:
        raw = words[1] if len(words) > 1 else ""
        person.interests = [] if raw.strip().lower() == "none" else parse_topics(raw)
        if not person.interests and raw.strip().lower() != "none":
            raise InvalidInput(N_("Write: interests set TOPIC, TOPIC (or none)."))
    elif words:
        raise InvalidInput(N_("Write: interests set TOPIC, TOPIC (or none)."))
    mine = ", ".join(topic_label(t, person.language) for t in person.interests) or \
        ctx._("none")
    menu = "\n".join(f"{i}. {k}: {topic_label(k, person.language)}"
                     for i, k in enumerate(topic_keys(), 1))
    text = ctx._("Your interests: {topics}.", topics=mine) + "\n" + ctx._(
        "Scope topics (interests set 1, 3 or by key):") + "\n" + menu
    return Message(text)


def show_cmd(ctx: Context) -> Message:
    """``sprint show ID``: the sprint, with the controls the reader may use."""
    sprint = find_sprint(ctx.session, ctx.args.split()[0])
    try:
        ctx.authorize("sprint.signup", group_id=sprint.group_id)
        can = True
    except PermissionDenied:
        can = False
    return sprint_message(ctx.session, sprint, tr=ctx.tr, zone=ctx.person.timezone,
                          now=utcnow(), signup=can)
