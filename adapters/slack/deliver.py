"""The outbox's Slack deliverer: ``bot.chat_deliverers["slack"]``.

A payload from ``bot.outbox.enqueue_chat`` is posted with ``chat.postMessage``
(or ``chat.postEphemeral`` when it names a ``user_id`` in a channel, or a
direct message when it names only a user). Given ``existing_id`` (the ``ts``
of an earlier post with the same ref) it is updated in place with
``chat.update``, so a live tally stays one message; if that message was
deleted, a new one is posted. Returns the message ``ts``; raises on failure so
the outbox retries.

Slack's HTTP 429 (its per-method rate tiers) becomes :class:`bot.queue.RetryAfter`
with the ``Retry-After`` seconds: the outbox puts the row back for that long
without counting an attempt, and holds the pass's other Slack rows too.

Block Kit cannot carry bytes: a new post's ``Message.attachments`` (an .ics)
and ``Image(png=...)`` blocks (a chart) are uploaded with ``files_upload_v2``
into the post's thread. An update (``chat.update``) re-uploads nothing, so a
living tally does not add a file per stance; its text and alt text stay current.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.outbound import render_message
from bot.queue import RetryAfter
from bot.types import Image, Message, message_from_data

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
        try:
            return self._deliver(payload, existing_id=existing_id)
        except SlackApiError as exc:
            wait = retry_after(exc)
            if wait is not None:
                raise RetryAfter(wait, f"Slack rate limit: retry after {wait:.0f}s") from exc
            raise

    def _deliver(self, payload: Mapping[str, Any], *, existing_id: str | None) -> str | None:
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
        ts = str(resp["ts"])
        files = uploads(message)
        if files:
            self.client.files_upload_v2(channel=str(resp.get("channel") or channel),
                                        thread_ts=str(thread or ts), file_uploads=files)
        return ts


def uploads(message: Message) -> list[dict[str, Any]]:
    """``files_upload_v2`` entries for what Block Kit cannot show: the PNG
    images (``image-<n>.png``, titled with their alt text) and the attachments."""
    out: list[dict[str, Any]] = []
    images = [b for b in message.blocks if isinstance(b, Image) and b.png]
    for n, img in enumerate(images, 1):
        out.append({"content": img.png, "filename": f"image-{n}.png",
                    "title": (img.alt or "image")[:250], "alt_txt": (img.alt or "")[:1000]})
    for a in message.attachments:
        out.append({"content": a.data, "filename": a.filename,
                    "title": (a.description or a.filename)[:250]})
    return out


def retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked us to wait (HTTP 429 ``Retry-After``), else None."""
    response = exc.response
    if getattr(response, "status_code", None) != 429:
        return None
    headers = getattr(response, "headers", None) or {}
    value = next((v for k, v in dict(headers).items() if str(k).lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1.0, float(value)) if value is not None else 30.0
    except (TypeError, ValueError):
        return 30.0
