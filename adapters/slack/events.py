"""``/slack/events``: the HTTP mode's one endpoint (Events API and interactivity).

In order, cheapest first: past the inbox's backlog limit the request is
refused with 503 and ``Retry-After`` before its body is read, its signature
checked or anything parsed (the refusal reveals nothing and acts on nothing;
Slack retries with the same event id, which keeps a retry from acting twice);
then the body is read and checked (:class:`adapters.slack.edges.Edges`: 413,
401, 400); bolt runs the listener, which acknowledges and collects the inbox
row; the row is committed before the 200 leaves (``ACK_DEADLINE_SECONDS`` at
most, else 503 + Retry-After). When the database cannot take the row, Slack
gets 503 without Retry-After (it retries) and the person is told through the
request's response_url that nothing was recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from slack_bolt import BoltContext, BoltRequest
from slack_bolt.adapter.starlette.handler import to_starlette_response
from slack_bolt.request.internals import build_context
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from adapters.slack.outbound import render_message
from bot.errors import N_, is_unavailable
from bot.i18n import translator
from bot.types import Message
from bot.web import OwnBodyRoute

if TYPE_CHECKING:
    from slack_bolt import App

    from adapters.slack.edges import Edges
    from bot.app import Bot
    from bot.inbox import Inbox

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
#: bolt context key: the HTTP route collects inbox rows here and writes them
#: before the response leaves (no key: the listener writes them itself).
PENDING = "convene_inbox_rows"
#: How long an acknowledgement waits for its row's commit (Slack waits 3 s).
ACK_DEADLINE_SECONDS = 2.5
UNRECORDED = N_("Convene could not record that just now (its database is unavailable), so "
                "nothing was done. Please try again in a minute.")


def busy(wait: int) -> Response:
    """503 with ``Retry-After: wait`` (seconds) and no body."""
    return Response(status_code=503, headers={"Retry-After": str(wait)})


class Adapter(Protocol):
    """What the endpoint takes from :class:`adapters.slack.app.SlackAdapter`
    (named here, so the adapter's module imports this one and not back)."""

    bot: Bot
    inbox: Inbox
    edges: Edges
    app: App

    def response_url(self, body: Mapping[str, Any]) -> str | None: ...


class EventsEndpoint:
    """The endpoint of one :class:`adapters.slack.app.SlackAdapter`;
    :meth:`route` mounts it. ``warm``: bolt has its auth.test answer, so
    requests are acknowledged on the event loop without a thread hop."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.warm = False

    def route(self) -> OwnBodyRoute:
        return OwnBodyRoute(EVENTS_PATH, self.handle, methods=["POST"],
                            max_body=self.adapter.edges.max_body)

    async def handle(self, request: Request) -> Response:
        adapter = self.adapter
        inbox = adapter.inbox
        if (wait := inbox.retry_after()) is not None:  # the backlog is past its limit
            return busy(wait)
        raw, body, refused = await adapter.edges.read_parsed(request)
        if refused is not None:
            return refused
        # bolt reads any form body containing the word "payload" as an
        # interaction's payload= field: a slash command whose text says
        # "payload" became an empty request. The body is the one Convene
        # parsed (the raw bytes stay, for bolt's signature check), given
        # after construction: bolt would parse it again, and build its context twice.
        bolt_request = BoltRequest(body="", query=request.query_params,  # type: ignore[arg-type]
                                   headers=request.headers)  # type: ignore[arg-type]
        bolt_request.raw_body = raw.decode("utf-8")
        bolt_request.body = body
        bolt_request.context = build_context(BoltContext({}), body)
        rows: list[Any] = []
        bolt_request.context[PENDING] = rows
        if self.warm:
            # Only CPU work is left (signature check, a listener that acks and queues):
            # here, no thread hop per request (under load it costs more than the work).
            bolt_response = adapter.app.dispatch(bolt_request)
        else:
            # Off the event loop until bolt has its auth.test answer (retried on failure).
            bolt_response = await run_in_threadpool(adapter.app.dispatch, bolt_request)
            self.warm = bool(bolt_request.context.get("bot_user_id"))
        if rows and bolt_response.status == 200:
            # The acknowledgement leaves only once the rows are committed.
            written = inbox.submit(rows)
            try:
                # Already done when the inbox is not durable: awaiting would
                # put this ack behind every other ready request on the loop.
                if not written.done():
                    await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(written)),
                                           ACK_DEADLINE_SECONDS)
                written.result()
            except TimeoutError:
                # Slack gives up at 3 s: better a refusal it shows the person (or
                # retries) than a late 200. The row may still land; a retry of
                # the same request adds nothing (its key is unique). Busy, as
                # the backlog's refusal: a Retry-After (12 of 20,000 at 200 in flight).
                log.error("Slack inbox write took over %.1fs, %d request(s) not "
                          "acknowledged", ACK_DEADLINE_SECONDS, len(rows))
                return busy(1)
            except Exception as exc:
                if not (isinstance(exc, SQLAlchemyError) or is_unavailable(exc)):
                    raise
                log.error("Slack inbox unavailable, %d request(s) not acknowledged: %s",
                          len(rows), type(exc).__name__)
                await run_in_threadpool(self.tell_unrecorded, rows)
                return Response(status_code=503)  # not acknowledged: Slack retries
        return to_starlette_response(bolt_response)

    def tell_unrecorded(self, rows: list[Any]) -> None:
        """Tell each person whose request could not be written (the database is
        down) that nothing was recorded, through the request's response_url.
        In the default language: the person's profile is in that database."""
        tr = translator(self.adapter.bot.settings.default_language)
        text = tr.gettext(UNRECORDED)
        for _key, _kind, payload in rows:
            url = self.adapter.response_url(payload.get("body") or {})
            if not url:
                continue  # an Events API message: Slack's retry is the only way back
            try:
                WebhookClient(str(url), timeout=2).send(
                    response_type="ephemeral", replace_original=False,
                    **render_message(Message(text)))
            except Exception as exc:  # noqa: BLE001 - best effort; Slack retries anyway
                log.warning("could not tell the person their request was lost: %s", exc)
