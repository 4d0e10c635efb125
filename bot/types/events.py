"""Inbound events: what an adapter makes of a platform's payload (a command,
a button press, a submitted form, an email, an attendance), and who sent it
from where (:class:`Actor`, :class:`Conversation`)."""

from __future__ import annotations

import re as _re
from dataclasses import dataclass

from bot.types.message import Attachment

#: Where an event came from: an adapter's name (its plugin's ``name``), or
#: ``email``, ``console``, ``web``, ``cli``, ``job``. An open set: the core
#: never lists the chat platforms a deployment installs.
Platform = str


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: stable ids only, never a display name.

    For ``console``, ``email`` and ``web`` the ``user_id`` is the person's email
    address (lower-case) and ``workspace_id`` is ``""``.
    """

    platform: Platform
    workspace_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where an event happened and where public replies go."""

    platform: Platform
    workspace_id: str
    channel_id: str
    thread_id: str | None = None
    is_direct: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """A typed command: ``/convene vote 12 block too costly``, a mention, a line.

    ``name`` is the first word lower-cased (``vote``), ``args`` the rest verbatim.
    ``event_id`` is the platform's id for the delivery: retries must not act twice.
    """

    name: str
    args: str
    actor: Actor
    where: Conversation
    event_id: str


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """A button or a select choice: ``action_id`` names the route, ``value`` is
    untrusted input that the route re-checks."""

    action_id: str
    value: str
    actor: Actor
    where: Conversation
    event_id: str
    message_ref: str | None = None


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """A submitted form (a chat platform's modal, a terminal prompt).

    ``form_id`` names the route; ``values`` maps field name to the text given
    (empty string when left blank); ``context`` is the form's opaque context.
    """

    form_id: str
    values: tuple[tuple[str, str], ...]
    actor: Actor
    where: Conversation
    event_id: str
    context: str = ""

    def get(self, name: str, default: str = "") -> str:
        """The submitted value of field ``name``, stripped."""
        for k, v in self.values:
            if k == name:
                return v.strip()
        return default


@dataclass(frozen=True, slots=True)
class InboundEmail:
    """An email that arrived for Convene (a reply to a ballot, a calendar
    client's iTIP REPLY), as the email adapter read it, with no domain meaning.

    ``actor.user_id`` is the From address (lower-case), which is *claimed*, not
    proven: ``authentication_results`` holds the receiving server's
    ``Authentication-Results`` header values (RFC 8601) for the capability to
    judge. ``event_id`` is the Message-ID. ``in_reply_to`` and ``references``
    are the Message-IDs it answers (RFC 5322 section 3.6.4), angle brackets
    kept. ``text`` is the decoded text/plain body (or HTML turned to text);
    ``parts`` the other MIME parts (``text/calendar`` for an iTIP REPLY).

    Routing: the dispatcher finds a ``reply`` route by *tag*: the local part of
    a referenced Message-ID up to its first ``.`` (a ballot minted as
    ``<poll.12.2.abc@host>`` is claimed by the route ``reply:poll``); a message
    with a ``text/calendar`` part goes to the route ``reply:calendar``.
    """

    actor: Actor
    where: Conversation
    event_id: str
    subject: str
    text: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    authentication_results: tuple[str, ...] = ()
    parts: tuple[Attachment, ...] = ()

    def tags(self) -> tuple[str, ...]:
        """The tags of the Message-IDs this answers, nearest first (see class doc)."""
        ids = [self.in_reply_to, *reversed(self.references)]
        out: list[str] = []
        for mid in ids:
            local = mid.strip().strip("<>").split("@", 1)[0]
            tag = local.split(".", 1)[0].lower()
            if tag and "." in local and tag not in out:
                out.append(tag)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Attendance:
    """A person marked themselves interested (``attending=True``) or no longer
    interested in a platform's native calendar event (a chat server's
    scheduled event) that Convene published from a :class:`CalendarEvent` with ``uid``.

    Routed to the ``attendance`` route named by the uid's tag (the part before
    the first ``-`` or ``.``: ``workshop-12-1@host`` -> ``attendance:workshop``).
    """

    uid: str
    attending: bool
    actor: Actor
    where: Conversation
    event_id: str

    def tag(self) -> str:
        """The uid's tag (see class doc)."""
        return _re.split(r"[-.@]", self.uid, maxsplit=1)[0].lower()


Event = Command | ButtonPress | FormSubmission | InboundEmail | Attendance
