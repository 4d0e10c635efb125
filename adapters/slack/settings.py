"""The ``[slack]`` section of convene.toml (``CONVENE_SLACK__<KEY>``), declared by
the Slack plugin and validated with the rest of the configuration at start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, SecretStr

if TYPE_CHECKING:
    from bot.settings import Settings


class SlackSettings(BaseModel):
    """Slack: ``mode`` is ``http`` (Events API at /slack/events) or ``socket``."""

    enabled: bool = False
    mode: Literal["http", "socket"] = "http"
    bot_token: SecretStr = SecretStr("")
    signing_secret: SecretStr = SecretStr("")
    app_token: SecretStr = SecretStr("")
    api_url: str = "https://slack.com/api/"
    default_channel: str = ""
    #: Workspaces (team ids, ``T...``) whose requests are accepted; empty: only
    #: the bot token's own workspace (from auth.test).
    team_ids: list[str] = Field(default_factory=list)
    workers: int = Field(8, ge=1, le=64)
    #: True (default): each verified request is committed to the inbox table
    #: (one group commit) before Slack gets its ack, so a crash after the ack loses
    #: nothing. False: the ack is the transport's receipt only, and a crash between
    #: the ack and the dispatch loses the request.
    durable_inbox: bool = True
    #: Where the inbox's workers run: ``process``, a child process of their own
    #: (bot/dispatch_process.py: the acknowledgements keep the HTTP process's
    #: interpreter to themselves); ``threads``, in the HTTP process; ``auto``
    #: (default), a process under ``convene serve`` with a durable inbox on
    #: PostgreSQL, threads otherwise (SQLite's one writer is shared better
    #: within one process, and Socket Mode has no HTTP acknowledgement).
    dispatch: Literal["auto", "threads", "process"] = "auto"
    #: Backpressure: once the oldest request waiting for a worker has waited this
    #: long, or more wait than the workers work off in this long at their recent
    #: pace (up to 1,000 while it is not known: bot/backlog.py), /slack/events
    #: answers 503 with Retry-After (Slack retries; the event id keeps a retry
    #: from acting twice) instead of confirming minutes late. 2 s of waiting
    #: leaves 3 s for the dispatch, the reply and a slower pace than the one
    #: measured: with 3 s, at 200 requests in flight on a busy 2-core machine,
    #: the lag's median sat at the limit (2.3-3.2 s) and spikes reached 7-11 s;
    #: with 2 s, median 1.3-1.4 s, max 2.9-4.0 s, a third fewer presses taken.
    #: 0.5 s (bench/load.py, 200 in flight, 2 against 0.5 in both orders, load
    #: 0.2-11): lag max 32.7 -> 5.1 s and 35.0 -> 8.5 s on PostgreSQL, 12.2 ->
    #: 3.3 s and 9.0 -> 6.1 s on SQLite, 0-27% fewer presses taken: eight
    #: workers stay busy on a short queue, and a long one only adds waiting.
    max_backlog_seconds: float = Field(0.5, gt=0)


def slack_settings(settings: Settings) -> SlackSettings:
    """The ``[slack]`` section of ``settings`` (defaults when it was not read)."""
    return settings.section("slack", SlackSettings)
