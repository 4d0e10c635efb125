"""What a Slack request must pass before anything reads it.

At the HTTP edge (:meth:`Edges.read`): a body larger than ``MAX_BODY`` is
refused with 413 from its ``Content-Length`` or, without one, while it is
streamed (never buffered whole); the signature and timestamp are checked on
the raw bytes (401); a body that is not the JSON or form Slack sends is 400.
Only then does bolt build its request. Inside bolt (:meth:`Edges.team_guard`,
a middleware, so HTTP and Socket Mode alike): a request from a workspace
other than ``[slack] team_ids`` (default: the bot token's own team, from
auth.test) is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import BoltResponse
from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import Response

from adapters.slack.inbound import parse_body, team_of

log = logging.getLogger(__name__)

#: The largest request body accepted (bytes). Slack's payloads are a few kB;
#: a modal with every field full stays well under this.
MAX_BODY = 1 << 20


class Edges:
    """The checks above, for one app: ``signing_secret`` ("" when bolt's
    verification is off, as in some tests), ``team_ids`` configured (empty:
    the token's own team)."""

    def __init__(self, *, signing_secret: str, team_ids: Iterable[str] = (),
                 max_body: int = MAX_BODY) -> None:
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self.team_ids = frozenset(t for t in team_ids if t)
        self.max_body = max_body

    async def read(self, request: Request) -> tuple[bytes, Response | None]:
        """The raw body, or a refusal (413, 401, 400) to send instead."""
        raw, _body, refused = await self.read_parsed(request)
        return raw, refused

    async def read_parsed(self, request: Request
                          ) -> tuple[bytes, dict[str, Any], Response | None]:
        """The raw body and the body as Convene reads it
        (:func:`adapters.slack.inbound.parse_body`), or a refusal (413, 401,
        400) to send instead."""
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                return b"", {}, Response("bad Content-Length", status_code=400)
            if size > self.max_body:
                return b"", {}, Response("request body too large", status_code=413)
        chunks: list[bytes] = []
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > self.max_body:
                return b"", {}, Response("request body too large", status_code=413)
            chunks.append(chunk)
        raw = b"".join(chunks)
        if self.verifier is not None:
            try:
                valid = self.verifier.is_valid_request(raw, dict(request.headers))
            except ValueError:  # a timestamp that is not a number
                valid = False
            if not valid:
                return raw, {}, Response("invalid request", status_code=401)
        try:
            body = parse_body(raw, request.headers.get("content-type", ""))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return raw, {}, Response("malformed body", status_code=400)
        return raw, body, None

    def allowed(self, team: str | None, own_team: str | None) -> bool:
        """Whether a request naming ``team`` may go on (None: it names none)."""
        if team is None:
            return True
        allowed = self.team_ids or frozenset({own_team} if own_team else ())
        return team in allowed

    def team_guard(self, context: Any, body: dict[str, Any],
                   next: Callable[[], BoltResponse]) -> BoltResponse:
        """bolt middleware: refuse (403) a request from a foreign workspace."""
        result = context.authorize_result
        own = getattr(result, "team_id", None) if result is not None else None
        team = team_of(body)
        if not self.allowed(team, own):
            log.warning("refused a Slack request from workspace %r (allowed: %s)", team,
                        ", ".join(sorted(self.team_ids or {own or "?"})))
            return BoltResponse(status=403, body="")
        return next()
