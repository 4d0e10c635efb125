"""Core ``Message`` -> a Discord message body (content, embeds, components),
within Discord's limits.

The body is the JSON of ``POST /channels/{id}/messages`` (and of interaction
followups and edits): https://discord.com/developers/docs/resources/message.
Files (attachments, PNG images) travel beside it as multipart parts
``files[n]`` and are named in ``attachments``; an image is shown in its embed
as ``attachment://<name>``.

Text is inert Discord Markdown (:mod:`adapters.discord.markdown`);
``allowed_mentions`` is always ``{"parse": []}``, so nothing pings. Ids and
values are never cut: an element whose ``custom_id`` would pass 100
characters is left out and logged. Forms become modals in
:mod:`adapters.discord.forms`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from adapters.discord.ids import button_id, select_id
from adapters.discord.limits import (
    ACTION_ROWS,
    BUTTON_LABEL,
    CONTENT,
    CUSTOM_ID,
    EMBED_DESCRIPTION,
    EMBED_FIELDS,
    EMBED_TITLE,
    EMBEDS,
    FIELD_NAME,
    FIELD_VALUE,
    FOOTER,
    OPTION_LABEL,
    OPTION_VALUE,
    PLACEHOLDER,
    ROW_BUTTONS,
    SELECT_OPTIONS,
)
from adapters.discord.markdown import MentionLookup, markdown, plain, safe_url, span_text
from adapters.text import ELLIPSIS
from bot.types import (
    MULTI_SEPARATOR,
    Actions,
    Button,
    Divider,
    Header,
    Image,
    LinkButton,
    Message,
    Preformatted,
    Section,
    Select,
    SmallPrint,
    inline_plain,
)

log = logging.getLogger(__name__)

Body = dict[str, Any]

ACCENT_COLOURS = {"info": 0x1D70B8, "success": 0x2EB886, "warning": 0xDAA038,
                  "danger": 0xD4351C}
NO_MENTIONS: dict[str, Any] = {"parse": []}
BUTTON_STYLES = {"default": 2, "primary": 1, "danger": 4}
LINK_STYLE = 5

def _title(text: str) -> str:
    # Embed titles render Markdown too, so they are escaped like any plain string.
    return markdown(text.replace("\n", " "), EMBED_TITLE)


@dataclass
class Rendered:
    """A message body and the files it names (``(filename, bytes, mime type)``)."""

    body: Body
    files: list[tuple[str, bytes, str]] = field(default_factory=list)

    def payload_json(self) -> str:
        """The body as ``payload_json`` for a multipart request."""
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False)


class _Embeds:
    """Fills embeds block by block, opening a new one when a limit is reached."""

    def __init__(self, colour: int | None) -> None:
        self.colour = colour
        self.embeds: list[Body] = []
        self.lines: list[str] = []
        self.fields: list[Body] = []
        self.footer: list[str] = []
        self.title = ""
        self.image = ""

    def _size(self) -> int:
        return len("\n\n".join(self.lines))

    def _flush(self) -> None:
        if not (self.lines or self.fields or self.title or self.image or self.footer):
            return
        embed: Body = {"type": "rich"}
        if self.title:
            embed["title"] = self.title
        if self.lines:
            embed["description"] = "\n\n".join(self.lines)
        if self.fields:
            embed["fields"] = self.fields
        if self.image:
            embed["image"] = {"url": self.image}
        if self.footer:
            embed["footer"] = {"text": plain(" · ".join(self.footer), FOOTER)}
        if self.colour is not None:
            embed["color"] = self.colour
        self.embeds.append(embed)
        self.lines, self.fields, self.footer, self.title, self.image = [], [], [], "", ""

    def text(self, rendered: str) -> None:
        if not rendered.strip():
            return
        if self.footer or self.image or (self.lines and self._size() + 2 + len(rendered)
                                         > EMBED_DESCRIPTION):
            self._flush()
        self.lines.append(rendered[:EMBED_DESCRIPTION])

    def heading(self, text: str) -> None:
        if not text.strip():
            return
        if self.title or self.lines or self.fields or self.image:
            self.text(f"**{span_text(text)}**"[:EMBED_TITLE])
        else:
            self.title = _title(text)

    def add_fields(self, fields: list[Body]) -> None:
        for f in fields:
            if len(self.fields) >= EMBED_FIELDS or self.footer or self.image:
                self._flush()
            self.fields.append(f)

    def small(self, text: str) -> None:
        if text.strip():
            self.footer.append(text)

    def picture(self, url: str) -> None:
        if self.image or self.footer:
            self._flush()
        self.image = url

    def done(self) -> list[Body]:
        self._flush()
        return self.embeds


def _chunks(text: str, limit: int) -> list[str]:
    """A long plain string split at line ends into pieces under ``limit``."""
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(markdown(candidate, 10 * limit)) <= limit or not current:
            current = candidate
        else:
            out.append(current)
            current = line
    if current:
        out.append(current)
    return out


def _component(el: Button | Select | LinkButton, seen: dict[str, int]) -> Body | None:
    def unique(custom_id: str) -> str:
        n = seen.get(custom_id, 0) + 1
        seen[custom_id] = n
        return custom_id if n == 1 else f"{custom_id}~{n}"

    if isinstance(el, LinkButton):
        url = safe_url(el.url)
        if url is None:
            return None
        return {"type": 2, "style": LINK_STYLE, "label": plain(el.label, BUTTON_LABEL) or "…",
                "url": url}
    if isinstance(el, Button):
        cid = button_id(el.action_id, el.value)
        if cid is None:
            log.warning("dropping Discord button %s: its custom_id would pass %d characters",
                        el.action_id, CUSTOM_ID)
            return None
        out: Body = {"type": 2, "style": BUTTON_STYLES[el.style],
                     "label": plain(el.label, BUTTON_LABEL) or "…", "custom_id": unique(cid)}
        if el.disabled:
            out["disabled"] = True
        return out
    cid = select_id(el.action_id)
    if cid is None:
        log.warning("dropping Discord select %s: custom_id too long", el.action_id)
        return None
    options = [o for o in el.options if len(o.value) <= OPTION_VALUE
               and MULTI_SEPARATOR not in o.value]
    if len(options) > SELECT_OPTIONS:
        log.warning("select %s: showing the first %d of %d options", el.action_id,
                    SELECT_OPTIONS, len(options))
        options = options[:SELECT_OPTIONS]
    if not options:
        return None
    out = {"type": 3, "custom_id": unique(cid), "placeholder": plain(el.placeholder, PLACEHOLDER),
           "options": [{"label": plain(o.label, OPTION_LABEL) or o.value, "value": o.value,
                        **({"default": True} if o.value in el.initial else {})}
                       for o in options]}
    if el.multi:
        out["min_values"] = 0
        out["max_values"] = min(el.max_selected or len(options), len(options))
    return out


def _rows(blocks: list[Actions]) -> list[Body]:
    """Action rows: up to 5 buttons a row, a select alone in its row, 5 rows."""
    rows: list[list[Body]] = []
    seen: dict[str, int] = {}
    for block in blocks:
        current: list[Body] = []
        for el in block.elements:
            comp = _component(el, seen)
            if comp is None:
                continue
            if comp["type"] == 3:
                if current:
                    rows.append(current)
                    current = []
                rows.append([comp])
                continue
            if len(current) == ROW_BUTTONS:
                rows.append(current)
                current = []
            current.append(comp)
        if current:
            rows.append(current)
    if len(rows) > ACTION_ROWS:
        log.warning("message has %d component rows; Discord shows %d", len(rows), ACTION_ROWS)
        rows = rows[:ACTION_ROWS]
    return [{"type": 1, "components": r} for r in rows]


def render_message(message: Message, *, mentions: MentionLookup | None = None) -> Rendered:
    """The Discord body for ``message`` (see the module docstring). A message
    with neither blocks nor accent is plain ``content``; otherwise its blocks
    become embeds (``accent`` -> embed colour) and ``text`` is left for the
    notification only when nothing else would show. The form, if any, is not
    rendered here (see :func:`render_modal`)."""
    colour = ACCENT_COLOURS[message.accent] if message.accent else None
    files: list[tuple[str, bytes, str]] = []
    attachments: list[Body] = []

    def add_file(name: str, data: bytes, mime: str, description: str = "") -> str:
        names = {f[0] for f in files}
        base, dot, ext = name.rpartition(".")
        unique, n = name, 1
        while unique in names:
            n += 1
            unique = f"{base}-{n}.{ext}" if dot else f"{name}-{n}"
        att: Body = {"id": len(files), "filename": unique}
        if description:
            att["description"] = plain(description, 1024)
        attachments.append(att)
        files.append((unique, data, mime))
        return unique

    embeds = _Embeds(colour)
    actions: list[Actions] = []
    image_no = 0
    for block in message.blocks:
        if isinstance(block, Header):
            embeds.heading(block.text)
        elif isinstance(block, Section):
            if isinstance(block.text, str):
                for chunk in _chunks(block.text, EMBED_DESCRIPTION):
                    embeds.text(markdown(chunk, EMBED_DESCRIPTION, mentions=mentions))
            else:
                embeds.text(markdown(block.text, EMBED_DESCRIPTION, mentions=mentions))
            embeds.add_fields([{"name": plain(f.label, FIELD_NAME) or "…",
                                "value": markdown(f.value, FIELD_VALUE, mentions=mentions)
                                or "…", "inline": True} for f in block.fields])
        elif isinstance(block, Preformatted):
            pre = block.text.replace("`", chr(0x2CB))
            room = EMBED_DESCRIPTION - 8
            if len(pre) > room:
                pre = pre[: room - 1] + ELLIPSIS
            embeds.text(f"```\n{pre}\n```")
        elif isinstance(block, SmallPrint):
            embeds.small(inline_plain(block.text))
        elif isinstance(block, Divider):
            embeds.text("─" * 24)
        elif isinstance(block, Image):
            if block.png:
                image_no += 1
                name = add_file(f"image-{image_no}.png", block.png, "image/png", block.alt)
                embeds.picture(f"attachment://{name}")
            elif safe_url(block.url):
                embeds.picture(block.url)
            else:
                embeds.small(block.alt)
        elif isinstance(block, Actions):
            actions.append(block)
    for att in message.attachments:
        add_file(att.filename, att.data, att.mime_type, att.description)
    rendered_embeds = embeds.done()
    body: Body = {}
    if not message.blocks and colour is None:
        body["content"] = markdown(message.text or ELLIPSIS, CONTENT, mentions=mentions)
    elif not message.blocks:
        rendered_embeds = [{"type": "rich", "color": colour, "description": markdown(
            message.text or ELLIPSIS, EMBED_DESCRIPTION, mentions=mentions)}]
    if len(rendered_embeds) > EMBEDS:
        log.warning("message needs %d embeds; Discord shows %d", len(rendered_embeds), EMBEDS)
        rendered_embeds = rendered_embeds[:EMBEDS]
    body["embeds"] = fit_total(rendered_embeds)
    body["components"] = _rows(actions)
    body["allowed_mentions"] = dict(NO_MENTIONS)
    if attachments:
        body["attachments"] = attachments
    if not body["embeds"] and not body.get("content") and not files:
        body["content"] = markdown(message.text or ELLIPSIS, CONTENT, mentions=mentions)
    return Rendered(body, files)


def fit_total(embeds: list[Body]) -> list[Body]:
    """Embeds cut to Discord's 6,000 characters in all (titles, descriptions,
    field names and values, footers): later descriptions are shortened first,
    then later embeds dropped."""
    from adapters.discord.limits import EMBED_TOTAL, embed_chars

    total = sum(embed_chars(e) for e in embeds)
    out = [dict(e) for e in embeds]
    while total > EMBED_TOTAL and out:
        last = out[-1]
        excess = total - EMBED_TOTAL
        desc = str(last.get("description", ""))
        if len(desc) > excess + len(ELLIPSIS):
            last["description"] = desc[: len(desc) - excess - len(ELLIPSIS)].rstrip("\\") \
                + ELLIPSIS
        else:
            out.pop()
        total = sum(embed_chars(e) for e in out)
    return out
