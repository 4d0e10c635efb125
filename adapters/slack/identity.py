"""Slack user -> roster person, by the email address of the Slack profile.

The roster first: on the first event from a workspace every Slack account
already linked there is read in one query (after a restart, a thousand
presses from linked people cost one query, not a thousand). An account not
linked yet is looked up in the workspace's directory, fetched in pages by
``users.list`` (one call per :data:`PAGE` people, shared by every unknown
account until ``retry_seconds`` have passed), ``users.info`` only for one the
directory does not have (both need the scopes ``users:read`` and
``users:read.email``). ``Bot.identify`` links the account to the person with
the profile's address. The same person in two workspaces (two Slack user ids)
is linked to one roster person. Results are cached in memory: a known account
costs nothing; an unknown one is asked again only after ``retry_seconds``.
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

#: Every account linked in one workspace (read once per workspace per process).
_LINKED_IN = select(Identity.user_id).where(
    Identity.platform == "slack", Identity.workspace_id == bindparam("workspace_id"))

#: People per ``users.list`` page (Slack allows up to 1,000; it may send fewer).
PAGE = 1000


class IdentityCache:
    """Links Slack accounts to people on first sight. Thread-safe."""

    def __init__(self, bot: Bot, client: WebClient, *, retry_seconds: float = 300.0) -> None:
        self.bot = bot
        self.client = client
        self.retry_seconds = retry_seconds
        self._known: set[Actor] = set()
        self._failed: dict[Actor, float] = {}
        self._warm: set[str] = set()  # workspaces whose linked accounts were read
        #: workspace -> (monotonic time fetched, user id -> profile email or None)
        self._directory: dict[str, tuple[float, dict[str, str | None]]] = {}
        self._lock = threading.Lock()
        self._linking = threading.Lock()
        self._listing = threading.Lock()

    def ensure(self, actor: Actor) -> bool:
        """True when ``actor`` is (now) linked to a person. Never raises: a Slack
        error leaves the actor unknown, and the core then refuses politely."""
        if actor.platform != "slack":
            return False
        with self._lock:
            if actor in self._known:
                return True
            failed_at = self._failed.get(actor)
        if self._read_workspace(actor):
            return True
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
            email = self.directory_email(actor)
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

    def _read_workspace(self, actor: Actor) -> bool:
        """Once per workspace: remember every account already linked there (one
        query). True when ``actor`` is among them."""
        workspace = actor.workspace_id
        with self._lock:
            if workspace in self._warm:
                return False
        with Session(read_only(self.bot.engine)) as session, session.begin():
            users = session.scalars(_LINKED_IN, {"workspace_id": workspace}).all()
        with self._lock:
            self._warm.add(workspace)
            self._known.update(Actor("slack", workspace, u) for u in users)
            return actor in self._known

    def directory_email(self, actor: Actor) -> str | None:
        """The profile email of ``actor`` from its workspace's directory
        (``users.list``, fetched once per ``retry_seconds`` for every account
        asked about meanwhile), else from ``users.info``; None for a bot, a
        deleted account, no email scope or an error."""
        directory = self._workspace_directory(actor.workspace_id)
        if actor.user_id in directory:
            return directory[actor.user_id]
        return self.profile_email(actor.user_id)

    def _workspace_directory(self, workspace: str) -> dict[str, str | None]:
        with self._listing:
            fetched = self._directory.get(workspace)
            if fetched is not None and time.monotonic() - fetched[0] < self.retry_seconds:
                return fetched[1]
            directory: dict[str, str | None] = {}
            cursor: str | None = None
            try:
                while True:
                    resp = self.client.users_list(limit=PAGE, cursor=cursor)
                    for user in resp.get("members") or ():
                        email = (user.get("profile") or {}).get("email")
                        usable = email and not user.get("is_bot") and not user.get("deleted")
                        directory[str(user.get("id"))] = str(email) if usable else None
                    cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
                    if cursor is None:
                        break
            except SlackApiError as exc:  # no scope, rate limited: users.info one by one
                log.warning("users.list failed: %s", exc.response.get("error"))
            self._directory[workspace] = (time.monotonic(), directory)
            return directory

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
