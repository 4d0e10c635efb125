"""Slack forms waiting behind an "open" button (a modal can only be opened as
the first answer to a press): stashed in the database through the core's
:mod:`bot.formstash`, so the press may reach any replica."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bot.formstash import FormStash as CoreStash
from bot.types import Actions, Button, Conversation, Form, Message, from_data, to_data

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

#: The button that opens a form when no trigger_id was at hand (a mention, the outbox).
OPEN_FORM_ACTION = "slack.form"


class FormStash:
    """Forms waiting behind an "open" button: token -> (form, intro, where).

    In the database (:class:`bot.formstash.FormStash`), so the press may reach
    any replica; expiring: a button pressed a day later opens nothing (the
    person runs the command again).
    """

    def __init__(self, session_factory: sessionmaker[Session], *, ttl: float = 86400.0) -> None:
        self._rows = CoreStash(session_factory, platform="slack", ttl=ttl)

    def put(self, form: Form, intro: Message, where: Conversation | None) -> str:
        """Stash ``form`` with its ``intro`` message; returns the token."""
        return self._rows.put({"form": to_data(form), "intro": to_data(intro),
                               "where": dataclasses.asdict(where) if where else None})

    def get(self, token: str) -> tuple[Form, Message, Conversation | None] | None:
        """The stashed form, or None when unknown or expired."""
        found = self._rows.get(token)
        if found is None:
            return None
        form, intro = from_data(found.data.get("form")), from_data(found.data.get("intro"))
        if not isinstance(form, Form) or not isinstance(intro, Message):
            return None
        where = found.data.get("where")
        return form, intro, Conversation(**where) if isinstance(where, dict) else None

    def button_message(self, message: Message, where: Conversation | None = None) -> Message:
        """``message`` with its form replaced by a button (labelled with the
        form's title) that opens it."""
        assert message.form is not None
        token = self.put(message.form, message, where)
        button = Actions((Button(message.form.title, OPEN_FORM_ACTION, token, "primary"),))
        return Message(text=message.text, blocks=(*message.blocks, button))
