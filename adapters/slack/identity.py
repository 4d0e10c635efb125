"""Slack user -> roster person, by the email address of the Slack profile.

``users.info`` (scopes ``users:read`` and ``users:read.email``) gives the
profile email; ``Bot.identify`` links the account to the person with that
address. The same person in two workspaces (two Slack user ids) is linked to
one roster person. Results are cached in memory: a known account costs
nothing; an unknown one is asked again only after ``retry_seconds``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.members import resolve_actor
from bot.types import Actor
from storage.engine import read_only
from storage.models import Identity

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

#: Is the account linked? (a Core row, no ORM entity: first sight of every actor
#: after a start pays it, a thousand at a restart under load).
_LINKED = select(Identity.id).where(
    Identity.platform == bindparam("platform"),
    Identity.workspace_id == bindparam("workspace_id"),
    Identity.user_id == bindparam("user_id")).limit(1)


class IdentityCache:
    """Links Slack accounts to people on first sight. Thread-safe."""

    def __init__(self, bot: Bot, client: WebClient, *, retry_seconds: float = 300.0) -> None:
        self.bot = bot
        self.client = client
        self.retry_seconds = retry_seconds
        self._known: set[Actor] = set()
        self._failed: dict[Actor, float] = {}
        self._lock = threading.Lock()
        self._linking = threading.Lock()

    def ensure(self, actor: Actor) -> bool:
        """True when ``actor`` is (now) linked to a person. Never raises: a Slack
        error leaves the actor unknown, and the core then refuses politely."""
        if actor.platform != "slack":
            return False
        with self._lock:
            if actor in self._known:
                return True
            failed_at = self._failed.get(actor)
        # A read: on SQLite it must not queue behind (or hold up) the writers.
        with Session(read_only(self.bot.engine)) as session, session.begin():
            if session.execute(_LINKED, {"platform": actor.platform,
                                         "workspace_id": actor.workspace_id,
                                         "user_id": actor.user_id}).first() is not None:
                self._remember(actor, True)
                return True
        if failed_at is not None and time.monotonic() - failed_at < self.retry_seconds:
            return False
        # One link at a time: two first events from one person, handled on two
        # worker threads, must not both insert the identity.
        with self._linking:
            with self._lock:
                if actor in self._known:
                    return True
            email = self.profile_email(actor.user_id)
            try:
                linked = bool(email) and self.bot.identify(actor, email or "")
            except IntegrityError:  # another process linked it first
                with self.bot.session_factory() as session:
                    linked = resolve_actor(session, actor) is not None
            if not linked:
                log.info("Slack user %s/%s has no roster match", actor.workspace_id,
                         actor.user_id)
            self._remember(actor, linked)
        return linked

    def profile_email(self, user_id: str) -> str | None:
        """The email of the user's Slack profile, or None (no scope, a bot, an error)."""
        try:
            resp = self.client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info %s failed: %s", user_id, exc.response.get("error"))
            return None
        user = resp.get("user") or {}
        if user.get("is_bot"):
            return None
        email = (user.get("profile") or {}).get("email")
        return str(email) if email else None

    def _remember(self, actor: Actor, linked: bool) -> None:
        with self._lock:
            if linked:
                self._known.add(actor)
                self._failed.pop(actor, None)
            else:
                self._failed[actor] = time.monotonic()
