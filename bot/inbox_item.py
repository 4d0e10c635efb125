"""What the durable inbox (bot/inbox.py) hands around: a row as a worker
gets it, the handler's shape, a writer's request, and the protocol of
workers in another process (bot/dispatch_process.py)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from bot.queue import Claimed


@dataclass(frozen=True, slots=True)
class InboxItem:
    """What a worker gets: the row id, its kind and payload (and the claim:
    its token and attempt count; in memory only: no token)."""

    id: int
    kind: str
    payload: dict[str, Any]
    token: str = ""
    attempts: int = 1

    def claimed(self) -> Claimed:
        return Claimed(self.id, "", self.kind, self.payload, self.attempts, self.token)


Handler = Callable[[InboxItem], None]


class Remote(Protocol):
    """Workers in another process (bot/dispatch_process.py): written rows are
    sent there, and it says when to refuse."""

    def send(self, items: list[InboxItem]) -> None: ...
    def retry_after(self) -> int | None: ...


Row = tuple[str, str, dict[str, Any]]
#: A request to the writer: its rows, the future its caller waits on, and
#: whether the rows go to this inbox's workers (False: the caller works them).
Write = tuple[list[Row], Future[list[InboxItem]], bool]
