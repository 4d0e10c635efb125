"""The real slack-bolt App wired to ``Bot.dispatch``.

HTTP mode: ``/slack/events`` on the Starlette app (slack_bolt.adapter.starlette),
request signatures and timestamps verified by bolt (a bad or stale one gets
401). Socket Mode: the same App over a WebSocket with the app-level token.

Every listener hands the verified request to the inbox (bot/inbox.py)
and then acknowledges. With ``[slack] durable_inbox = true`` (the default) the
inbox first commits it (one group-committed INSERT), so a request Slack saw
acknowledged survives a crash; with ``false`` it goes to the workers in memory
and the ack is the transport's receipt only. When the database cannot take the
row, Slack gets no 200 (it retries) and the person is told at once through the
request's response_url that nothing was recorded; past ``max_backlog_seconds``
of waiting work it gets 503 + Retry-After before its body is even read (the
HTTP endpoint: adapters/slack/events.py). Confirmations follow commits. Worker
threads dispatch through the core and post replies:
``actor`` replies privately (the response_url, an ephemeral message or the
DM), ``conversation`` replies with chat.postMessage, and a reply carrying a
form opens it as a modal with the interaction's ``trigger_id``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from starlette.routing import Route

from adapters.slack.deliver import SlackDeliverer
from adapters.slack.edges import Edges
from adapters.slack.events import PENDING, EventsEndpoint
from adapters.slack.forms import OPEN_FORM_ACTION, FormStash
from adapters.slack.identity import IdentityCache
from adapters.slack.inbound import (
    action_events,
    command_event,
    message_event,
    view_submission_event,
)
from adapters.slack.limits import BLOCK_ID
from adapters.slack.outbound import (
    encode_metadata,
    render_home,
    render_message,
    render_modal,
)
from adapters.slack.settings import slack_settings
from bot.home import home_message
from bot.inbox import Inbox
from bot.inbox_item import InboxItem
from bot.types import (
    Actor,
    Conversation,
    Event,
    Form,
    Message,
    Reply,
)

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

_ANY = re.compile(r".*")
#: Slack shows at most this much of a field's error in a modal.
ERROR_LIMIT = 2000


class SlackAdapter:
    """One bolt App for one Bot. ``routes()`` for HTTP mode, ``start_socket_mode()``
    for Socket Mode, ``deliverer`` for the outbox. ``start()`` starts the inbox
    workers (and picks up what a crash left); ``close()`` stops them.
    ``start_workers=False`` leaves them stopped until ``start()``."""

    def __init__(self, bot: Bot, *, client: WebClient | None = None,
                 workers: int | None = None, start_workers: bool = True) -> None:
        cfg = slack_settings(bot.settings)
        self.bot = bot
        self.client = client or WebClient(token=cfg.bot_token.get_secret_value() or None,
                                          base_url=cfg.api_url)
        self.identities = IdentityCache(bot, self.client)
        self.forms = FormStash(bot.session_factory)
        self.deliverer = SlackDeliverer(self.client, prepare=self.forms.button_message)
        self.inbox = Inbox(bot.session_factory, platform="slack", handler=self.handle,
                           workers=workers or cfg.workers, durable=cfg.durable_inbox,
                           instance=bot.instance_id, max_backlog_seconds=cfg.max_backlog_seconds,
                           stale=timedelta(seconds=bot.settings.queue.stale_seconds))
        secret = cfg.signing_secret.get_secret_value()
        self.app = App(
            client=self.client,
            signing_secret=secret or None,
            request_verification_enabled=bool(secret),
            # The listeners only ack() and queue: running them before the response
            # is faster than bolt's polling for ack() from another thread.
            process_before_response=True,
            token_verification_enabled=False,
            logger=logging.getLogger("slack_bolt"),
        )
        self.edges = Edges(signing_secret=secret, team_ids=cfg.team_ids)
        self.app.use(self.edges.team_guard)
        self.events = EventsEndpoint(self)
        self._register()
        if start_workers:
            self.start()

    def start(self) -> None:
        """Start the inbox workers; the first sweep claims rows left pending or
        with a lease run out (a crash between acknowledgement and dispatch)."""
        self.inbox.start()

    # -- listeners (run inside the request: ack, queue, return) ---------------------
    def _register(self) -> None:
        app = self.app

        @app.command(_ANY)
        def on_command(ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
            self.accept("command", command_event(body).event_id, body, context)
            ack()

        def on_message(body: dict[str, Any], context: dict[str, Any]) -> None:
            bot_user_id = context.get("bot_user_id")
            event = message_event(body, bot_user_id=bot_user_id)
            # Channel chatter is not for us: only direct messages and mentions are.
            if event is not None and (event.where.is_direct
                                      or body["event"].get("type") == "app_mention"):
                self.accept("message", event.event_id, body, context,
                            bot_user_id=bot_user_id)

        app.event("app_mention")(on_message)
        app.event("message")(on_message)

        @app.event("app_home_opened")
        def on_home(body: dict[str, Any], context: dict[str, Any]) -> None:
            event = body.get("event") or {}
            if event.get("tab", "home") == "home" and event.get("user"):
                key = str(body.get("event_id") or f"{event['user']}:{event.get('event_ts')}")
                self.accept("home", f"home:{key}", body, context)

        @app.action(_ANY)
        def on_action(ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
            presses = action_events(body)
            key = presses[0].event_id if presses else f"act:{body.get('trigger_id')}"
            self.accept("actions", key, body, context)
            ack()

        @app.view(_ANY)
        def on_view(ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
            event = view_submission_event(body)
            # A field the core would refuse is shown inside the modal, which stays open.
            try:
                self.identities.ensure(event.actor)
                errors = self.bot.check_form(event)
            except Exception:  # the worker's dispatch will report it
                log.warning("could not check form %s before accepting it", event.form_id,
                            exc_info=True)
                errors = {}
            if errors:
                ack(response_action="errors", errors={
                    name[:BLOCK_ID]: text[:ERROR_LIMIT] for name, text in errors.items()})
                return
            self.accept("view", event.event_id, body, context)
            ack()  # closes the modal; replies follow where it was opened

        @app.view_closed(_ANY)
        def on_view_closed(ack: Ack) -> None:
            ack()

    def accept(self, kind: str, key: str, body: dict[str, Any], context: dict[str, Any],
               **extra: Any) -> None:
        """Put the request in the inbox before it is acknowledged: into the HTTP
        route's batch (written before the response leaves), else written now."""
        row = (f"slack:{key}"[:255], kind, {"body": body, **extra})
        pending: list[Any] | None = context.get(PENDING)
        if pending is not None:
            pending.append(row)
        else:
            self.submit([row])

    def submit(self, rows: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Write inbox ``rows`` (key, kind, payload) and wait for their commit."""
        self.inbox.put(rows)

    # -- the work (worker threads) ------------------------------------------------------
    def handle(self, item: InboxItem) -> None:
        """Work one inbox row: rebuild the core events from the Slack body,
        dispatch them, send the replies."""
        body: dict[str, Any] = item.payload["body"]
        if item.kind == "command":
            self._run([command_event(body)], body)
        elif item.kind == "message":
            event = message_event(body, bot_user_id=item.payload.get("bot_user_id"))
            if event is not None:
                self._run([event], body)
        elif item.kind == "actions":
            self._run_actions(body)
        elif item.kind == "view":
            self._run([view_submission_event(body)], body)
        elif item.kind == "home":
            home: dict[str, Any] = body.get("event") or {}
            self.publish_home(Actor("slack", str(body.get("team_id", "")),
                                    str(home.get("user", ""))))
        else:
            log.error("unknown Slack inbox kind %r (row %s)", item.kind, item.id)

    def _run_actions(self, body: dict[str, Any]) -> None:
        for action in body.get("actions") or ():
            if action.get("action_id") == OPEN_FORM_ACTION:
                self._open_stashed(str(action.get("value", "")), body)
                return
        self._run(list(action_events(body)), body)

    def _run(self, events: list[Event], body: Mapping[str, Any]) -> None:
        trigger = body.get("trigger_id")
        response_url = self.response_url(body)
        for event in events:
            self.identities.ensure(event.actor)
            with self.inbox.gate.worker():
                # Database down: raised, so the inbox tries the row again later.
                replies = self.bot.dispatch(event, raise_unavailable=True)
            trigger = self.send(replies, event=event, trigger_id=trigger,
                                response_url=response_url)

    def send(self, replies: list[Reply], *, event: Event, trigger_id: str | None,
             response_url: str | None) -> str | None:
        """Post ``replies`` to ``event``; returns the trigger id if still unused."""
        for reply in replies:
            message = reply.message
            if message.form is not None:
                if trigger_id and self.open_form(message.form, intro=message,
                                                 where=event.where, trigger_id=trigger_id):
                    trigger_id = None
                    continue
                message = self.forms.button_message(message, event.where)
            if reply.audience == "conversation" and event.where.channel_id:
                self.post_conversation(message, event.where, response_url=response_url)
            else:
                self.post_private(message, actor=event.actor, where=event.where,
                                  response_url=response_url)
        return trigger_id

    def response_url(self, body: Mapping[str, Any]) -> str | None:
        """The request's ``response_url`` when it is Slack's (https on
        ``hooks.slack.com``, or the host of ``[slack] api_url``: a Slack
        Enterprise Grid or test API), else None: Convene posts only where Slack
        said, never to an address a body names elsewhere."""
        url = body.get("response_url")
        if not isinstance(url, str) or not url:
            return None
        parts, api = urlsplit(url), urlsplit(slack_settings(self.bot.settings).api_url)
        if (parts.scheme, parts.hostname) == ("https", "hooks.slack.com") or (
                parts.scheme == api.scheme and parts.netloc == api.netloc):
            return url
        log.warning("ignored a response_url outside Slack (%s)", parts.hostname)
        return None

    def open_form(self, form: Form, *, intro: Message | None, where: Conversation | None,
                  trigger_id: str) -> bool:
        """views.open a modal for ``form``; False if Slack refused (an expired trigger)."""
        try:
            metadata = encode_metadata(context=form.context,
                                       channel_id=where.channel_id if where else "",
                                       thread_id=where.thread_id if where else None)
            self.client.views_open(trigger_id=trigger_id,
                                   view=render_modal(form, metadata=metadata, intro=intro))
        except (SlackApiError, ValueError) as exc:
            log.warning("could not open form %s: %s", form.form_id, exc)
            return False
        return True

    def _open_stashed(self, token: str, body: Mapping[str, Any]) -> None:
        found = self.forms.get(token)
        if found is not None:
            form, intro, where = found
            self.open_form(form, intro=intro, where=where, trigger_id=str(body["trigger_id"]))

    def post_private(self, message: Message, *, actor: Actor, where: Conversation,
                     response_url: str | None) -> None:
        """Only ``actor`` sees it: through the interaction's response_url, else an
        ephemeral message in the channel, else (a DM, a modal) a direct message."""
        body = render_message(message)
        if response_url:
            resp = WebhookClient(response_url).send(
                response_type="ephemeral", replace_original=False, **body)
            if resp.status_code == 200:
                return
            log.warning("response_url answered %s; posting instead", resp.status_code)
        if where.channel_id and not where.is_direct:
            try:
                self.client.chat_postEphemeral(channel=where.channel_id, user=actor.user_id,
                                               **body)
                return
            except SlackApiError as exc:
                log.info("ephemeral post refused (%s); sending a DM",
                         exc.response.get("error"))
        dm = where.channel_id if where.is_direct and where.channel_id else actor.user_id
        self.client.chat_postMessage(channel=dm, **body)

    def post_conversation(self, message: Message, where: Conversation, *,
                          response_url: str | None) -> None:
        """Everyone in the conversation sees it (chat.postMessage; where the app is
        not a member, the response_url posts it in the channel)."""
        body = render_message(message)
        kwargs: dict[str, Any] = {"thread_ts": where.thread_id} if where.thread_id else {}
        try:
            self.client.chat_postMessage(channel=where.channel_id, **body, **kwargs)
        except SlackApiError as exc:
            if not response_url:
                raise
            log.info("chat.postMessage refused (%s); using response_url",
                     exc.response.get("error"))
            WebhookClient(response_url).send(response_type="in_channel", **body)

    def publish_home(self, actor: Actor) -> None:
        """views.publish the App Home tab of ``actor``."""
        self.identities.ensure(actor)
        self.client.views_publish(user_id=actor.user_id,
                                  view=render_home(home_message(self.bot, actor)))

    # -- transports ---------------------------------------------------------------------
    def routes(self) -> list[Route]:
        """The Starlette route for HTTP mode (Events API and interactivity):
        :class:`adapters.slack.events.EventsEndpoint`."""
        return [self.events.route()]

    def connect_socket_mode(self) -> Callable[[], None]:
        """Connect over Socket Mode with ``[slack] app_token``; returns what
        closes that connection (the inbox keeps working)."""
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(self.app, slack_settings(self.bot.settings).app_token
                                    .get_secret_value())
        handler.connect()  # type: ignore[no-untyped-call]  # slack-bolt leaves it untyped
        log.info("Slack Socket Mode connected")
        return handler.close

    def start_socket_mode(self) -> Callable[[], None]:
        """Connect over Socket Mode; returns the stopper (connection and inbox)."""
        close = self.connect_socket_mode()

        def stop() -> None:
            close()
            self.close()

        return stop

    def close(self, *, wait: bool = True) -> None:
        """Stop taking work; with ``wait``, finish what is queued (without, it
        waits in the inbox for the next start)."""
        self.inbox.close(wait=wait)
