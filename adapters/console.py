"""The terminal adapter: the embedded default, and the one the core tests drive.

``convene chat --as EMAIL`` reads commands from a terminal or piped stdin and
prints replies. Buttons and menu options are numbered; answering with the
number presses them. A form is asked field by field.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.errors import N_
from bot.i18n import translator
from bot.text import strip_controls
from bot.types import (
    MULTI_SEPARATOR,
    Actions,
    Actor,
    Button,
    ButtonPress,
    Command,
    Conversation,
    Divider,
    Form,
    FormSubmission,
    Header,
    Image,
    LinkButton,
    Message,
    Preformatted,
    Reply,
    Section,
    Select,
    SmallPrint,
    inline_plain,
    message_from_data,
    plain_times,
)

Dispatch = Callable[[Any], list[Reply]]


@dataclass(frozen=True, slots=True)
class Choice:
    """A numbered choice shown on the terminal."""

    number: int
    label: str
    action_id: str
    value: str
    multi: bool = False


def colon(language: str) -> str:
    """The colon after a label: French puts a narrow no-break space before it."""
    return "\u202f:" if language == "fr" else ":"


def render(message: Message, *, start: int = 1, language: str = "en"
           ) -> tuple[str, list[Choice]]:
    """Plain text for a terminal (ANSI escapes and control characters other
    than newline and tab removed: stored text never drives the terminal), and
    the numbered choices it offers. ``language``: the reader's, for typography."""
    sep = colon(language)
    out: list[str] = []
    choices: list[Choice] = []
    n = start
    if not message.blocks:
        out.append(message.text)
    for block in message.blocks:
        if isinstance(block, Header):
            out.append(f"== {block.text} ==")
        elif isinstance(block, Section):
            if block.text:
                out.append(inline_plain(block.text))
            for f in block.fields:
                out.append(f"  {f.label}{sep} {inline_plain(f.value)}")
        elif isinstance(block, Preformatted):
            out.extend(f"    {line}" for line in block.text.splitlines())
        elif isinstance(block, SmallPrint):
            out.append(f"  ({inline_plain(block.text)})")
        elif isinstance(block, Divider):
            out.append("-" * 40)
        elif isinstance(block, Image):
            out.append(f"[{block.alt}]")
        elif isinstance(block, Actions):
            for el in block.elements:
                if isinstance(el, Button):
                    if el.disabled:
                        out.append(f"  [-] {el.label}")
                        continue
                    choices.append(Choice(n, el.label, el.action_id, el.value))
                    out.append(f"  [{n}] {el.label}")
                    n += 1
                elif isinstance(el, Select):
                    out.append(f"  {el.placeholder}{sep}")
                    for opt in el.options:
                        choices.append(Choice(n, opt.label, el.action_id, opt.value,
                                              multi=el.multi))
                        out.append(f"  [{n}] {opt.label}")
                        n += 1
                elif isinstance(el, LinkButton):
                    out.append(f"  {el.label}{sep} {el.url}")
    for att in message.attachments:
        out.append(f"[{att.filename}" + (f"{sep} {att.description}]" if att.description
                                          else "]"))
    return strip_controls(plain_times("\n".join(out))), choices


@dataclass
class ConsoleSession:
    """A terminal conversation as one person (``email``).

    ``feed(line)`` dispatches one line and returns the printed text; a form
    reply makes the next lines answer its fields when ``interactive`` (a
    terminal); piped input is never taken as a form's answer: the form is
    refused with a word and the next line is the next command. ``language``
    is the person's, for the terminal's own words. ``transcript`` keeps
    everything shown, for tests.
    """

    dispatch: Dispatch
    email: str
    channel: str = "terminal"
    interactive: bool = True
    language: str = "en"
    choices: list[Choice] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    _form: Form | None = None
    _answers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        return Actor("console", "", self.email.strip().lower())

    @property
    def where(self) -> Conversation:
        return Conversation("console", "", self.channel, is_direct=True)

    def prompt(self) -> str:
        """What to show before reading the next line."""
        if self._form is not None:
            f = self._form.fields[len(self._answers)]
            opts = f" [{' | '.join(o.value for o in f.options)}]" if f.options else ""
            hint = f" ({f.hint})" if f.hint else ""
            return f"{f.label}{hint}{opts}{colon(self.language)} "
        return "> "

    def feed(self, line: str) -> str:
        """Handle one input line; returns the text shown in answer."""
        line = line.rstrip("\n")
        if self._form is not None:
            return self._answer_field(line)
        text = line.strip()
        if not text:
            return ""
        numbers = text.replace(",", " ").split()
        if self.choices and numbers and all(x.isdigit() for x in numbers):
            picked = [next((c for c in self.choices if c.number == int(x)), None)
                      for x in numbers]
            chosen = picked[0]
            if chosen is None or any(c is None for c in picked) or (len(picked) > 1 and not (
                    all(c is not None and c.multi and c.action_id == chosen.action_id
                        for c in picked))):
                return self._show(self._t(N_("Choose a number from 1 to {n}."),
                                          n=len(self.choices)))
            value = MULTI_SEPARATOR.join(c.value for c in picked if c is not None)
            event: Any = ButtonPress(chosen.action_id, value, self.actor, self.where,
                                     event_id=uuid.uuid4().hex)
        else:
            if text.startswith("/convene"):
                text = text[len("/convene"):].strip() or "help"
            name, _, args = text.partition(" ")
            event = Command(name.lower(), args.strip(), self.actor, self.where,
                            event_id=uuid.uuid4().hex)
        return self._show_replies(self.dispatch(event))

    def _answer_field(self, line: str) -> str:
        assert self._form is not None
        f = self._form.fields[len(self._answers)]
        value = line.strip() if f.kind != "textarea" else line.replace("\\n", "\n").strip()
        if f.required and not value:
            return self._show(self._t(N_("{field} is required."), field=f.label))
        self._answers.append((f.name, value))
        if len(self._answers) < len(self._form.fields):
            return ""
        form, answers = self._form, tuple(self._answers)
        self._form, self._answers = None, []
        event = FormSubmission(form.form_id, answers, self.actor, self.where,
                               event_id=uuid.uuid4().hex, context=form.context)
        return self._show_replies(self.dispatch(event))

    def _show_replies(self, replies: list[Reply]) -> str:
        parts: list[str] = []
        shown, self.choices = self.choices, []
        for reply in replies:
            text, choices = render(reply.message, start=len(self.choices) + 1,
                                   language=self.language)
            self.choices += choices
            parts.append(text)
            if reply.message.form is not None and not self.interactive:
                parts.append(self._t(N_("(A form is asked only in an interactive terminal; "
                                        "nothing was recorded. Give everything on one line "
                                        "as shown above.)")))
            elif reply.message.form is not None:
                self._form = reply.message.form
                self._answers = []
                parts.append(f"-- {strip_controls(reply.message.form.title)} --")
        if not self.choices:
            # A confirmation offers nothing to choose: the numbers still on the
            # screen (the other slots, stances, ...) keep working.
            self.choices = shown
        return self._show("\n".join(p for p in parts if p))

    def _t(self, msgid: str, /, **params: object) -> str:
        return translator(self.language).gettext(msgid, **params)

    def _show(self, text: str) -> str:
        self.transcript.append(text)
        return text


def run_chat(session: ConsoleSession, stdin: TextIO, stdout: TextIO, *,
             interactive: bool) -> None:
    """Read lines until EOF (or ``quit``), writing replies to ``stdout``."""
    for line in _lines(stdin, stdout, session, interactive):
        if line.strip().lower() in ("quit", "exit"):
            break
        shown = session.feed(line)
        if shown:
            stdout.write(shown + "\n")
            stdout.flush()


def _lines(stdin: TextIO, stdout: TextIO, session: ConsoleSession,
           interactive: bool) -> Iterator[str]:
    while True:
        if interactive:
            stdout.write(session.prompt())
            stdout.flush()
        line = stdin.readline()
        if not line:
            return
        yield line


class ConsoleChannel:
    """Chat deliverer for the ``console`` platform: appends posts to a text file
    per channel under ``folder`` (what a terminal user would see posted)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, payload: Mapping[str, Any], *, existing_id: str | None) -> str | None:
        self.folder.mkdir(parents=True, exist_ok=True)
        message = message_from_data(payload["message"])
        text, _ = render(message)
        name = "".join(ch if ch.isalnum() or ch in "-_" else "_"
                       for ch in str(payload["channel_id"]))
        ref = payload.get("ref") or ""
        with (self.folder / f"chat-{name}.txt").open("a", encoding="utf-8") as fh:
            head = f"--- {'update ' if existing_id else ''}{ref}".rstrip()
            fh.write(f"{head}\n{text}\n")
        return existing_id or uuid.uuid4().hex
