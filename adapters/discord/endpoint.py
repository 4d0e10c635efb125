"""Discord's Interactions Endpoint URL: ``POST /discord/interactions``.

With ``[discord] public_key`` set, Discord may deliver interactions by HTTP
POST instead of the gateway (Developer Portal > General Information >
Interactions Endpoint URL); every replica can serve them. Each request passes,
in order, before anything reads it:

1. a body of at most :data:`MAX_BODY` bytes (413 from ``Content-Length`` or
   while streaming, never buffered whole);
2. ``X-Signature-Timestamp`` (ASCII digits, Unix seconds) within
   :data:`MAX_SKEW_SECONDS` of this clock, and ``X-Signature-Ed25519`` (128
   hex digits) an Ed25519 signature of ``timestamp + body`` by the
   application's key (PyNaCl); otherwise 401, as Discord's own check of the
   endpoint expects;
3. a UTF-8 JSON object with an interaction ``type`` (400 otherwise).

PING (type 1) is answered PONG. Commands, components and modal submissions are
first recorded in the platform-neutral inbox (:mod:`bot.inbox`, platform
``discord``; one group commit, within :data:`RECORD_WITHIN` seconds, else 503
and nothing acted), so a crash before their flow ends loses nothing: the
inbox's sweep works them again (:mod:`adapters.discord.recovery`). Then they go
to :meth:`DiscordAdapter.on_interaction`, the same code the gateway path
runs: the HTTP response is the interaction's first response (the deferral,
type 5 or 6, for anything the core will work on; a modal, type 9; or an
ephemeral message, type 4), and followups are sent, once that response has
left, through the REST client as on the gateway. A flow that has not answered
within :data:`ANSWER_WITHIN` seconds is deferred (Discord waits 3 s). A
replayed request within the window acts once: the core drops a repeated
interaction id. Autocomplete (type 4) is answered from the core's completers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from sqlalchemy.exc import SQLAlchemyError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.discord.inbound import user_id
from adapters.discord.outbound import Rendered
from adapters.discord.recovery import row
from adapters.discord.turn import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    EPHEMERAL,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    PING,
    PONG,
    Turn,
    defer_type,
    deferral_body,
)
from bot.web import OwnBodyRoute

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter
    from adapters.discord.rest import Rest
    from bot.inbox import Inbox
    from bot.inbox_item import InboxItem

log = logging.getLogger(__name__)

INTERACTIONS_PATH = "/discord/interactions"
#: The largest body accepted (bytes). An interaction is a few kB; a modal of
#: five 4,000-character inputs with its resolved objects stays far below.
MAX_BODY = 1 << 20
#: How far the signed timestamp may be from this clock (seconds). Discord signs
#: as it sends and the first response is due within 3 s.
MAX_SKEW_SECONDS = 60
#: Seconds the endpoint waits for the flow's first response before deferring.
ANSWER_WITHIN = 2.0
#: Seconds the interaction's inbox row may take to commit before the request is
#: refused (503): the first response is due within 3 s of Discord sending it.
RECORD_WITHIN = 0.8
#: Seconds a followup waits for its interaction's response to have left (a client
#: that hung up gets no response; the followup is tried anyway, then falls back to a DM).
SENT_WITHIN = 10.0

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{128}")


class Verifier:
    """Ed25519 request signatures with the application's ``public_key`` (64 hex
    digits; raises ValueError otherwise). ``clock`` gives Unix seconds."""

    def __init__(self, public_key: str, *, max_skew: float = MAX_SKEW_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        try:
            self.key = VerifyKey(bytes.fromhex(public_key))
        except Exception as exc:  # nacl raises its own ValueError subclass or TypeError
            raise ValueError("[discord] public_key must be 64 hex digits") from exc
        self.max_skew, self.clock = max_skew, clock

    def refusal(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """Why the request must be refused (a short reason for the log), or None
        when ``X-Signature-Ed25519`` signs ``X-Signature-Timestamp + body``."""
        timestamp = headers.get("x-signature-timestamp", "")
        signature = headers.get("x-signature-ed25519", "")
        if not timestamp or not signature:
            return "signature headers missing"
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return "signature headers malformed"
        if abs(self.clock() - int(timestamp)) > self.max_skew:
            return "timestamp outside the window"
        try:
            self.key.verify(timestamp.encode("ascii") + body, bytes.fromhex(signature))
        except BadSignatureError:
            return "bad signature"
        return None


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None when it passes ``limit`` bytes (declared or streamed).
    Raises ValueError for a Content-Length that is not a number."""
    declared = request.headers.get("content-length")
    if declared is not None and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
#: Deepest nesting of lists and objects accepted (Discord's interactions nest
#: about 8 deep: data.components[].components[] of a modal).
MAX_DEPTH = 32


def _depth(value: Any, limit: int) -> int:
    """How deep ``value`` nests (lists and objects), stopping past ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return depth
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return deepest


def malformed(payload: dict[str, Any]) -> str | None:
    """Why an interaction body does not have the shape Discord sends (the
    fields the flows read: Discord's Interaction object), or None. Snowflakes
    are strings of ASCII digits; ``data``, ``member``, ``user`` objects;
    ``data.options``/``components`` lists of objects."""
    if _depth(payload, MAX_DEPTH) > MAX_DEPTH:
        return "nested too deep"
    if not isinstance(payload.get("id"), str) or not _SNOWFLAKE.fullmatch(payload["id"]):
        return "id is not a snowflake"
    if not isinstance(payload.get("token"), str) or not payload["token"]:
        return "no token"
    for key in ("guild_id", "channel_id", "application_id"):
        value = payload.get(key)
        if value is not None and not (isinstance(value, str)
                                      and _SNOWFLAKE.fullmatch(value)):
            return f"{key} is not a snowflake"
    for key in ("data", "member", "user", "channel", "message"):
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            return f"{key} is not an object"
    for key in ("locale", "guild_locale"):
        if payload.get(key) is not None and not isinstance(payload[key], str):
            return f"{key} is not a string"
    member = payload.get("member") or {}
    user = member.get("user") if member else payload.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) \
            or not _SNOWFLAKE.fullmatch(user["id"]):
        return "no user id"
    data = payload.get("data") or {}
    for key in ("name", "custom_id"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return f"data.{key} is not a string"
    if data.get("values") is not None and not (
            isinstance(data["values"], list) and all(isinstance(v, str) for v in data["values"])):
        return "data.values is not a list of strings"

    def objects(items: Any, child: str) -> bool:
        return items is None or (isinstance(items, list) and all(
            isinstance(i, dict) and objects(i.get(child), child) for i in items))

    if not objects(data.get("options"), "options") \
            or not objects(data.get("components"), "components"):
        return "data.options or data.components malformed"
    return None


class HttpTurn(Turn):
    """An interaction that came by HTTP: its first response is the HTTP
    response (:attr:`first`), its followups go through ``rest`` once
    :attr:`sent` is set (after the response has left: Discord knows no
    followup webhook before it)."""

    def __init__(self, payload: Mapping[str, Any], *, rest: Rest) -> None:
        super().__init__(payload)
        self.rest = rest
        self.first: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.sent = asyncio.Event()

    def answer(self, body: dict[str, Any]) -> bool:
        """Make ``body`` the first response; False when there already is one."""
        if self.first.done():
            return False
        self.first.set_result(body)
        return True

    async def defer(self) -> bool:
        self.answer(deferral_body(defer_type(self.payload)))
        return True

    async def open_modal(self, body: dict[str, Any]) -> None:
        if not self.answer({"type": MODAL, "data": body}):
            log.debug("interaction %s was already answered; modal not opened", self.id)

    async def respond(self, rendered: Rendered) -> None:
        # A first response carrying files would be multipart: those go as a followup.
        if not rendered.files and self.answer(
                {"type": CHANNEL_MESSAGE, "data": {**rendered.body, "flags": EPHEMERAL}}):
            return
        await self.defer()
        await self.followup(rendered, ephemeral=True)

    async def request(self, method: str, path: str, *, body: dict[str, Any],
                      files: Sequence[tuple[str, bytes, str]] = (), **params: Any) -> Any:
        try:
            await asyncio.wait_for(self.sent.wait(), SENT_WITHIN)
        except TimeoutError:
            log.warning("interaction %s: its HTTP response did not leave; following up anyway",
                        self.id)
        return await self.rest.arequest(method, path, json_body=body, files=files, **params)


class InteractionsEndpoint:
    """The Starlette route. ``adapter`` and ``rest`` give the bot's current
    DiscordAdapter and REST client (looked up per request: the gateway's
    replica rebuilds its adapter when it loses and regains the lease);
    ``inbox`` records each interaction before it is worked (None: nothing is
    recorded, a crash loses the interactions in flight)."""

    def __init__(self, verifier: Verifier, *, adapter: Callable[[], DiscordAdapter],
                 rest: Callable[[], Rest], inbox: Inbox | None = None,
                 answer_within: float = ANSWER_WITHIN) -> None:
        self.verifier = verifier
        self.adapter, self.rest = adapter, rest
        self.inbox = inbox
        self.answer_within = answer_within
        self._tasks: set[asyncio.Task[None]] = set()

    def routes(self) -> list[Route]:
        """``POST /discord/interactions``."""
        return [OwnBodyRoute(INTERACTIONS_PATH, self.receive, methods=["POST"],
                             max_body=MAX_BODY)]

    async def receive(self, request: Request) -> Response:
        """One request (see the module docstring)."""
        try:
            raw = await read_body(request, MAX_BODY)
        except ValueError:
            return Response("bad Content-Length", status_code=400)
        if raw is None:
            return Response("request body too large", status_code=413)
        reason = self.verifier.refusal(request.headers, raw)
        if reason is not None:
            log.info("refused a Discord interaction request: %s", reason)
            return Response("invalid request signature", status_code=401)
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            # RecursionError: a body nested deeper than the parser's stack.
            return Response("malformed body", status_code=400)
        kind = payload.get("type") if isinstance(payload, dict) else None
        if kind == PING:
            return JSONResponse({"type": PONG})
        why = "not a type Convene answers" if kind not in (
            APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT, AUTOCOMPLETE) \
            else malformed(payload)
        if why is not None:
            log.info("refused a Discord interaction request: %s", why)
            return Response("not an interaction Convene answers", status_code=400)
        if kind == AUTOCOMPLETE:
            return JSONResponse({"type": AUTOCOMPLETE_RESULT,
                                 "data": {"choices": await self.choices(payload)}})
        try:
            recorded = await self.record(payload)
        except (TimeoutError, SQLAlchemyError) as exc:
            log.error("Discord interaction %s not recorded, refused: %s", payload["id"], exc)
            return Response("the interaction could not be recorded", status_code=503)
        turn = HttpTurn(payload, rest=self.rest())
        task = asyncio.get_running_loop().create_task(self.run(turn, recorded))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        waiting: set[asyncio.Future[Any]] = {turn.first, task}
        await asyncio.wait(waiting, timeout=self.answer_within,
                           return_when=asyncio.FIRST_COMPLETED)
        if not turn.first.done():
            # Slow to answer, or ended without an answer (a component not ours).
            await turn.defer()
        return JSONResponse(turn.first.result(), background=BackgroundTask(turn.sent.set))

    async def record(self, payload: Mapping[str, Any]) -> list[InboxItem]:
        """Commit ``payload``'s inbox row (claimed by this process, worked here);
        the rows written ([] for a replay already recorded, or no inbox).
        Raises TimeoutError past :data:`RECORD_WITHIN`, or the database's error."""
        if self.inbox is None:
            return []
        written = self.inbox.submit([row(payload)], hand_off=False)
        return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(written)),
                                      RECORD_WITHIN)

    async def run(self, turn: HttpTurn, recorded: Sequence[InboxItem] = ()) -> None:
        """The adapter's flow for ``turn``; an error is logged with the interaction
        id. Its inbox rows are marked done after the flow, whatever its end."""
        try:
            await self.adapter().on_interaction(turn)
        except Exception:
            log.exception("Discord interaction %s (HTTP) failed", turn.id)
        finally:
            for item in recorded:
                if self.inbox is not None:
                    self.inbox.done(item)

    async def choices(self, payload: Mapping[str, Any]) -> list[dict[str, str]]:
        """Autocomplete choices, as the gateway's command tree gives them."""
        from adapters.discord.commands import choices
        from adapters.discord.inbound import focused

        found = focused(payload)
        if found is None:
            return []
        word, option, current = found
        pairs = await choices(self.adapter(), guild_id=str(payload.get("guild_id") or ""),
                              user_id=user_id(payload), word=word, option=option,
                              current=current)
        return [{"name": name, "value": value} for name, value in pairs]
