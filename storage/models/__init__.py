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
    Membership,
    Organisation,
    OutboxMessage,
    Person,
    ProcessedEvent,
    Role,
)
from storage.models.digest import (
    Digest,
    DigestEdit,
    DigestFeed,
    DigestItem,
    DigestItemSource,
    DigestRecipient,
    DigestSuggestion,
)
from storage.models.polls import Ballot, PollComment, Proposal, ProposalVersion, Round, Stance
from storage.models.slack import SlackInboxItem as SlackInboxItem

__all__ = [
    "AuditEntry",
    "Ballot",
    "Base",
    "ChatPost",
    "Digest",
    "DigestEdit",
    "DigestFeed",
    "DigestItem",
    "DigestItemSource",
    "DigestRecipient",
    "DigestSuggestion",
    "EmailAddress",
    "Group",
    "Identity",
    "Membership",
    "Organisation",
    "OutboxMessage",
    "Person",
    "PollComment",
    "ProcessedEvent",
    "Proposal",
    "ProposalVersion",
    "Role",
    "Round",
    "Stance",
]
