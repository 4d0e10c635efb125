"""The outbox's Slack deliverer: ``bot.chat_deliverers["slack"]``.

A payload from ``bot.outbox.enqueue_chat`` is posted with ``chat.postMessage``
(or ``chat.postEphemeral`` when it names a ``user_id`` in a channel, or a
direct message when it names only a user). Given ``existing_id`` (the ``ts``
of an earlier post with the same ref) it is updated in place with
``chat.update``, so a live tally stays one message; if that message was
deleted, a new one is posted. Returns the message ``ts``; raises on failure so
the outbox retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.outbound import render_message
from bot.types import Message, message_from_data

log = logging.getLogger(__name__)

#: Errors after which chat.update cannot succeed, so a new post is made.
GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class SlackDeliverer:
    """Callable ``(payload, *, existing_id) -> ts | None`` for the outbox worker.

    ``prepare`` may turn a message into what can be posted (a form becomes a
    button that opens it); by default the form is left out.
    """

    def __init__(self, client: WebClient,
                 prepare: Callable[[Message], Message] | None = None) -> None:
        self.client = client
        self.prepare = prepare

    def __call__(self, payload: Mapping[str, Any], *, existing_id: str | None) -> str | None:
        message = message_from_data(payload["message"])
        if message.form is not None and self.prepare is not None:
            message = self.prepare(message)
        body = render_message(message)
        channel = str(payload.get("channel_id") or "")
        user = payload.get("user_id")
        thread = payload.get("thread_id")
        if user and channel:
            self.client.chat_postEphemeral(channel=channel, user=str(user), **body)
            return None
        if not channel:
            if not user:
                raise ValueError("outbox payload names neither a channel nor a user")
            channel = str(user)  # a direct message from the app
        if existing_id:
            try:
                resp = self.client.chat_update(channel=channel, ts=existing_id, **body)
                return str(resp["ts"])
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE:
                    raise
                log.info("Slack message %s in %s is gone; posting anew", existing_id, channel)
        kwargs: dict[str, Any] = {"thread_ts": thread} if thread else {}
        resp = self.client.chat_postMessage(channel=channel, **body, **kwargs)
        return str(resp["ts"])
