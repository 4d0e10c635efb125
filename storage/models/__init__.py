"""Every mapped table, imported so that ``Base.metadata`` is complete.

Each capability keeps its tables in its own module here; add the import below.
An adapter keeps its own tables in its package (``adapters/<name>/models.py``,
on the same :class:`storage.base.Base`) and declares that module in the
``convene.models`` entry point group: importing this package imports them too,
so Alembic and the schema check see every table without storage naming one.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from storage.base import Base
from storage.models.core import (
    AuditEntry,
    ChatPost,
    EmailAddress,
    Group,
    Identity,
    InboxItem,
    JobRun,
    Membership,
    Organisation,
    OutboxMessage,
    Person,
    ProcessedEvent,
    QueueInstance,
    Role,
    StashedForm,
)
from storage.models.digest import (
    Digest,
    DigestEdit,
    DigestExample,
    DigestFeed,
    DigestItem,
    DigestItemSource,
    DigestNoteOptOut,
    DigestRecipient,
    DigestSuggestion,
)
from storage.models.polls import (
    Ballot,
    PollComment,
    Proposal,
    ProposalVersion,
    Round,
    RoundCount,
    Stance,
)
from storage.models.sprints import (
    Sprint,
    SprintFollower,
    SprintOffer,
    SprintPledge,
    SprintSignup,
)
from storage.models.workshops import (
    Workshop,
    WorkshopAction,
    WorkshopAgendaItem,
    WorkshopAvailability,
    WorkshopBurden,
    WorkshopFeedEvent,
    WorkshopFeedKey,
    WorkshopReminder,
    WorkshopRsvp,
    WorkshopSeries,
    WorkshopSlot,
)

__all__ = [
    "AuditEntry",
    "Ballot",
    "Base",
    "ChatPost",
    "Digest",
    "DigestEdit",
    "DigestExample",
    "DigestFeed",
    "DigestItem",
    "DigestItemSource",
    "DigestNoteOptOut",
    "DigestRecipient",
    "DigestSuggestion",
    "EmailAddress",
    "Group",
    "Identity",
    "InboxItem",
    "JobRun",
    "Membership",
    "Organisation",
    "OutboxMessage",
    "Person",
    "PollComment",
    "ProcessedEvent",
    "Proposal",
    "ProposalVersion",
    "QueueInstance",
    "Role",
    "Round",
    "RoundCount",
    "Sprint",
    "SprintFollower",
    "SprintOffer",
    "SprintPledge",
    "SprintSignup",
    "Stance",
    "StashedForm",
    "Workshop",
    "WorkshopAction",
    "WorkshopAgendaItem",
    "WorkshopAvailability",
    "WorkshopBurden",
    "WorkshopFeedEvent",
    "WorkshopFeedKey",
    "WorkshopReminder",
    "WorkshopRsvp",
    "WorkshopSeries",
    "WorkshopSlot",
]


def _load_adapter_models() -> None:
    """Import every module of the ``convene.models`` entry point group (each
    maps its tables on ``Base``). Raises what a broken module raises: a table
    Alembic cannot see is a schema drift, not something to skip."""
    for ep in sorted(entry_points(group="convene.models"), key=lambda e: e.name):
        ep.load()


_load_adapter_models()
