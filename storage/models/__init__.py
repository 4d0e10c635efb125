"""Every mapped table, imported so that ``Base.metadata`` is complete.

Each capability keeps its tables in its own module here; add the import below.
"""

from __future__ import annotations

from storage.base import Base
from storage.models.core import (
    AuditEntry,
    ChatPost,
    EmailAddress,
    Group,
    Identity,
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
from storage.models.discord import DiscordLinkCode, DiscordScheduledEvent
from storage.models.polls import (
    Ballot,
    PollComment,
    Proposal,
    ProposalVersion,
    Round,
    RoundCount,
    Stance,
)
from storage.models.slack import SlackInboxItem as SlackInboxItem
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
    "DiscordLinkCode",
    "DiscordScheduledEvent",
    "EmailAddress",
    "Group",
    "Identity",
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
    "WorkshopFeedKey",
    "WorkshopReminder",
    "WorkshopRsvp",
    "WorkshopSeries",
    "WorkshopSlot",
]
