"""The DomainError family: errors a person can read.

A DomainError carries a gettext msgid and its parameters; the dispatcher
translates it into the reader's language. Anything else raised by a handler is
unexpected: it is logged with context and the person sees a short apology.
"""

from __future__ import annotations

from typing import Any


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction without translating it now."""
    return msgid


class DomainError(Exception):
    """An error with a user-safe message that names the fix.

    ``msgid`` is an English gettext msgid with ``{name}`` placeholders filled
    from ``params`` after translation.
    """

    def __init__(self, msgid: str, /, **params: Any) -> None:
        super().__init__(msgid.format(**params) if params else msgid)
        self.msgid = msgid
        self.params = params


class PermissionDenied(DomainError):
    """The person does not hold the capability needed here."""


class NotFound(DomainError):
    """The thing named does not exist (or is not visible to this person)."""


class InvalidInput(DomainError):
    """The input cannot be used; the message says what to fix."""


class FieldError(InvalidInput):
    """Bad input in one field of a form: ``field`` is the form field's name, so
    an adapter with forms shows the message next to it (a chat platform's
    modal marks the field)."""

    def __init__(self, field: str, msgid: str, /, **params: Any) -> None:
        super().__init__(msgid, **params)
        self.field = field


class Conflict(DomainError):
    """The action clashes with the current state (closed round, full sprint)."""


class ConfigError(Exception):
    """A configuration value is wrong; the message names the key and what it expects."""


class Unavailable(Exception):
    """The database could not be reached (or is locked past its timeout), so
    nothing was done: the caller may retry later. Raised by ``Bot.dispatch``
    only when asked (``raise_unavailable=True``), chained to the driver's error."""


def is_unavailable(exc: BaseException) -> bool:
    """True for a database that is down or stuck rather than a bug: a lost or
    refused connection, "database is locked", the SQLite writers' lock timing
    out (and :class:`Unavailable` itself)."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, Unavailable | OperationalError | InterfaceError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
