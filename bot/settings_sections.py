"""The core's configuration sections (``[http]``, ``[smtp]``, ``[mail]``,
``[imap]``, ``[outbox]``, ``[queue]``, ``[jobs]``, ``[digest]``,
``[outbound]``, ``[polls]``, ``[sprints]``, ``[workshops]``): one pydantic
model each, composed by :class:`bot.settings.Settings`. ``examples/convene.toml``
documents every key."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    field_validator,
)


def check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"an IANA time zone such as Europe/Paris, not {value!r}") from None
    return value


class HttpSettings(BaseModel):
    """The HTTP app (health, vote links, calendar feeds, adapters' endpoints)."""

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    base_url: str = ""
    #: Load shedding (bot/shed.py): pages served at once, how many more may wait
    #: (each at most ``queue_seconds``); any other gets 503 with Retry-After.
    #: One process runs Python one thread at a time: with 32 pages at once each
    #: chat dispatch waited for the interpreter behind 32 threads (at 50 requests
    #: in flight, confirmations up to 5 s late and a third of the presses shed);
    #: with 8, under 1 s and none shed, for about a quarter fewer pages a second.
    max_in_flight: int = Field(8, ge=1)
    max_queued: int = Field(64, ge=0)
    queue_seconds: float = Field(5.0, gt=0)
    #: The largest request body a page's POST may send (bytes; the chat
    #: platforms' endpoints have their own, larger, limit): a larger declared or
    #: streamed body gets 413 before anything parses it.
    max_body_bytes: int = Field(65_536, ge=1024, le=16_777_216)

    def public_url(self) -> str:
        """The URL people's links point at (``base_url`` or ``http://host:port``)."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")


class SmtpSettings(BaseModel):
    """Outgoing mail over SMTP; when ``host`` is empty, mail is written as .eml files."""

    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: SecretStr = SecretStr("")
    timeout: float = Field(30.0, gt=0)


class MailSettings(BaseModel):
    """Mail identity, the file transport's folder, and whose sender
    authentication replies are trusted on.

    ``authserv_id``: the authserv-id(s) the receiving mail server writes in
    its ``Authentication-Results`` headers (RFC 8601 section 2.5, e.g.
    ``mx.alliance.example``; several separated by commas). Only those headers
    are read; replies without a passing verdict from them are not acted on
    (bot/mailauth.py). ``trust_unauthenticated``: act on replies that carry
    no verdict from that server (a server that adds none); off by default.
    """

    from_address: str = "convene@alliance.example"
    from_name: str = "Convene"
    outbox_dir: Path = Path("./outbox")
    authserv_id: str = ""
    trust_unauthenticated: bool = False


class ImapSettings(BaseModel):
    """The mailbox replies are read from (email voting)."""

    host: str = ""
    port: int = Field(993, ge=1, le=65535)
    ssl: bool = True
    username: str = ""
    password: SecretStr = SecretStr("")
    folder: str = "INBOX"
    poll_seconds: int = Field(60, ge=5)


class OutboxSettings(BaseModel):
    """Delivery of outbox rows: retries with exponential back-off."""

    poll_seconds: float = Field(2.0, gt=0)
    max_attempts: int = Field(12, ge=1)
    backoff_seconds: float = Field(5.0, gt=0)
    batch_size: int = Field(100, ge=1)


class QueueSettings(BaseModel):
    """Leased queues shared by replicas (bot/queue.py).

    ``instance_id``: this process's name in ``queue_instances``; empty: host:port
    under ``convene serve`` (so a restart frees its own rows at once), random
    otherwise. A heartbeat every ``heartbeat_seconds``; rows of an instance
    silent for ``stale_seconds`` are taken over by the others (within about a
    second more: the inbox looks every second). A restart under the same
    id takes its rows back at once; under a new id (a new port or host name, a
    recreated container) they wait out ``stale_seconds``, which is why it is
    short: a killed process's acknowledged chat requests are recorded within
    5 s of the restart. Taking over a live but silent instance's rows costs
    repeated work, never a repeated act (dispatch drops a seen event id), and a
    paused instance that resumes repeats at most the one message it was
    sending: it confirms its claim on each row right before sending it
    (``LeasedQueue.hold``), so no choice of these two values lets it repeat
    more; they only set how soon the others take over."""

    instance_id: str = Field("", max_length=48)
    heartbeat_seconds: float = Field(1.0, gt=0)
    stale_seconds: float = Field(3.0, gt=0)


class JobsSettings(BaseModel):
    """Periodic jobs: fired only on the replica holding the scheduler lease (a
    PostgreSQL advisory lock; on SQLite the one process). Replicas that do not
    hold it try every ``lease_check_seconds``: the longest a dead holder's lease
    waits to pass on (its connection closing frees the lock)."""

    lease_check_seconds: float = Field(10.0, gt=0, le=60)
    lock_key: int = 0x436F6E76  # "Conv"
    #: A tick's claim (its ``job_runs`` row) is held this long and renewed every
    #: third of it while the work runs; an unfinished claim whose lease lapsed
    #: (or whose owner's heartbeat is stale) is taken over and its work run again.
    run_lease_seconds: float = Field(60.0, gt=0)
    #: Claims of one tick before it is given up (recorded as failed).
    max_attempts: int = Field(5, ge=1)
    #: Unfinished ticks scheduled longer ago than this are left alone.
    retry_within_hours: float = Field(168.0, gt=0)


class DigestSettings(BaseModel):
    """The weekly press review. ``day`` is mon..sun; ``time`` HH:MM in ``timezone``."""

    feeds: list[str] = Field(default_factory=list)
    items: int = Field(10, ge=1, le=100)
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = "Europe/Paris"
    channel: str = ""
    taxonomy_file: Path | None = None
    fetch_concurrency: int = Field(8, ge=1, le=64)
    fetch_timeout: float = Field(20.0, gt=0)
    max_feed_bytes: int = Field(10_000_000, ge=1024)
    #: The only folder local feed files are read from (unset: none are).
    feed_dir: Path | None = None

    _check_zone = field_validator("timezone")(classmethod(lambda cls, v: check_zone(v)))


class OutboundSettings(BaseModel):
    """Requests Convene makes to URLs it was given (feeds), through the one
    guarded client (digests/outbound.py): loopback, private, link-local,
    multicast, reserved and metadata addresses are refused, at connect time
    and on every redirect, except the hosts of ``allow_hosts`` (host names,
    addresses or networks such as ``10.20.0.0/16``: an internal feed server)."""

    allow_hosts: list[str] = Field(default_factory=list)
    max_redirects: int = Field(5, ge=0, le=20)
    #: Seconds one fetch may take in all, redirects included.
    deadline_seconds: float = Field(60.0, gt=0)


class PollSettings(BaseModel):
    """Consensus polls: defaults for new proposals."""

    quorum_percent: int = Field(50, ge=0, le=100)
    #: Whether a new proposal's results show while its rounds are open
    #: (``live``) or only after each closes (``hidden``: no counts, no quorum
    #: figure, no names to anyone but the secretariat); a proposal may choose.
    default_visibility: Literal["live", "hidden"] = "live"
    reminder_hours: list[int] = Field(default_factory=lambda: [24, 2])
    auto_email_round: bool = False
    email_round_hours: int = Field(72, ge=1)
    #: Where email-round replies go (the mailbox read over IMAP); empty: mail.from_address.
    reply_address: str = ""
    #: Seconds between scans for due rounds and reminders in ``convene serve``.
    tick_seconds: int = Field(60, ge=5)


class SprintSettings(BaseModel):
    """Innovation sprints: how long a freed seat is held, and the weekly nudge."""

    #: Hours an offer of a freed seat stays open (lengthened until it holds
    #: ``min_waking_hours`` between ``waking_start`` and ``waking_end`` in the
    #: recipient's own zone).
    offer_hours: int = Field(48, ge=1, le=24 * 14)
    min_waking_hours: int = Field(12, ge=0, le=72)
    waking_start: int = Field(8, ge=0, le=23)
    waking_end: int = Field(22, ge=1, le=24)
    #: Seconds between scans for expired offers and funding deadlines.
    tick_seconds: int = Field(60, ge=5)
    #: The weekly nudge of open sprints matching each person's interests (UTC).
    nudge_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    nudge_hour: int = Field(9, ge=0, le=23)
    #: The IANA zone a sign-up cut-off or funding deadline given as a day ends
    #: in (the end of that day there), whoever reads it.
    timezone: str = "Europe/Paris"

    _check_zone = field_validator("timezone")(classmethod(lambda cls, v: check_zone(v)))

class WorkshopSettings(BaseModel):
    """Quarterly virtual workshops (bot/workshops)."""

    #: Reminders before a workshop, in minutes (7 days, 1 day, 1 hour).
    reminder_minutes: list[int] = Field(default_factory=lambda: [10080, 1440, 60])
    #: ORGANIZER of invites: a mailbox Convene reads ([imap]); empty: mail.from_address.
    calendar_address: str = ""
    #: How long availability and RSVP links stay valid, in days.
    link_days: int = Field(45, ge=1, le=365)
    #: Share of the group's members who must be able to come for a slot to reach quorum.
    quorum_percent: int = Field(50, ge=0, le=100)
    #: An observer's weight in "who can come" (a member weighs 1).
    observer_weight: float = Field(0.5, ge=0, le=1)
    #: Days before a workshop its agenda is circulated by itself (the
    #: ``workshops.agenda`` job, once per workshop unless published by hand
    #: before); 0: only by hand (``workshop agenda publish``).
    agenda_days: int = Field(7, ge=0, le=60)
    #: Seconds between scans for due reminders in ``convene serve``.
    tick_seconds: int = Field(60, ge=5)
