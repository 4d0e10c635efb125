"""Core ``Message`` -> Slack Block Kit, within Block Kit's limits.

Every text is cut safely (never inside an ``&amp;`` entity or a ``<!date>``
token) and marked with an ellipsis; ids and values are never cut (an element
whose id or value would not fit is dropped and logged, since a shortened value
would mean something else). Times written by the core as
``[[time:EPOCH|fallback]]`` become ``<!date^EPOCH^{date_short_pretty} {time}|fallback>``
in mrkdwn, so each reader sees their own local time; plain-text fields show the
fallback. Limits: https://api.slack.com/reference/block-kit/blocks
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from adapters.slack.limits import (
    ACTION_ID,
    ACTIONS_ELEMENTS,
    BLOCK_ID,
    BUTTON_TEXT,
    BUTTON_VALUE,
    CALLBACK_ID,
    CONTEXT_TEXT,
    FIELD_TEXT,
    HEADER_TEXT,
    IMAGE_ALT,
    INPUT_HINT,
    INPUT_LABEL,
    INPUT_MAX_LENGTH,
    MESSAGE_BLOCKS,
    MESSAGE_TEXT,
    MODAL_BUTTON,
    MODAL_TITLE,
    OPTION_TEXT,
    OPTION_VALUE,
    PLACEHOLDER,
    PRIVATE_METADATA,
    SECTION_FIELDS,
    SECTION_TEXT,
    SELECT_OPTIONS,
    URL,
    VIEW_BLOCKS,
)
from adapters.text import ELLIPSIS, fit_pieces, plain
from bot.types import (
    TIME_TOKEN_RE,
    Actions,
    Button,
    Code,
    Divider,
    Emphasis,
    Form,
    FormField,
    Header,
    Image,
    Inline,
    Link,
    LinkButton,
    Mention,
    Message,
    Preformatted,
    Section,
    Select,
    SmallPrint,
    Strong,
    Time,
    inline,
    inline_plain,
    plain_times,
)

log = logging.getLogger(__name__)

Block = dict[str, Any]

#: action_id given to link buttons: Slack still sends a block_actions for them,
#: which the adapter acknowledges and drops.
LINK_ACTION = "slack.link"
#: Suffix separator that keeps repeated core action ids unique within a message
#: (``poll.stance``, ``poll.stance~2``); inbound strips it.
DUP_SEP = "~"

_PIECES = re.compile(TIME_TOKEN_RE.pattern + r"|[&<>]|[^&<>\[]+|\[")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves (``& < >``)."""
    return "".join(_ESCAPES.get(c, c) for c in text)


_SAFE_URL = re.compile(r"^(https?://|mailto:)[^\s<>|]+$", re.IGNORECASE)
#: Message.accent -> the colour bar of a Slack attachment.
ACCENT_COLOURS = {"info": "#1d70b8", "success": "#2eb886", "warning": "#daa038",
                  "danger": "#d4351c"}


def _url(url: str) -> str | None:
    """``url`` if it is a safe http(s)/mailto address for ``<url|text>``, else None."""
    url = url.strip()
    return url if _SAFE_URL.match(url) and len(url) <= URL else None


def _label(text: str) -> str:
    """Text inside ``*..*``, ``_.._``, ``<url|..>``: escaped, with no ``|`` or newline
    that would end the span early."""
    return escape(plain_times(text)).replace("|", "/").replace("\n", " ")


def _inline_pieces(text: Inline) -> Iterator[tuple[str, bool]]:
    """(rendered piece, may be split) for each piece of core rich text."""
    for piece in inline(text):
        if isinstance(piece, str):
            yield from _mrkdwn_pieces(piece)
        elif isinstance(piece, Strong):
            yield (f"*{_label(piece.text)}*", False) if piece.text.strip() else ("", False)
        elif isinstance(piece, Emphasis):
            yield (f"_{_label(piece.text)}_", False) if piece.text.strip() else ("", False)
        elif isinstance(piece, Code):
            yield f"`{_label(piece.text).replace('`', chr(0x2CB))}`", False
        elif isinstance(piece, Link):
            url = _url(piece.url)
            label = _label(piece.text or piece.url)
            yield (f"<{url}|{label}>" if url else label), False
        elif isinstance(piece, Mention):
            yield f"@{_label(piece.name)}", False
        elif isinstance(piece, Time):
            yield (f"<!date^{piece.epoch}^{{date_short_pretty}} {{time}}|"
                   f"{_label(piece.fallback)}>"), False


def _mrkdwn_pieces(text: str) -> Iterator[tuple[str, bool]]:
    """(rendered piece, may be split) for each part of ``text``."""
    for m in _PIECES.finditer(text):
        if m.group("epoch") is not None:
            fallback = escape(m.group("fallback")).replace("|", "/")
            yield (f"<!date^{m.group('epoch')}^{{date_short_pretty}} {{time}}|{fallback}>",
                   False)
        elif m.group(0) in _ESCAPES:
            yield _ESCAPES[m.group(0)], False
        else:
            yield m.group(0), True


def mrkdwn(text: Inline, limit: int) -> str:
    """``text`` (a core string with time tokens, or rich text of spans) as Slack
    mrkdwn of at most ``limit`` characters; a cut text ends with an ellipsis.
    Plain strings are escaped (``<!channel>`` or ``<url|x>`` in a title stay inert)."""
    return fit_pieces(_inline_pieces(text), limit)


def _plain_obj(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": plain(text, limit) or " ", "emoji": True}


def _chunks(text: Inline, limit: int) -> list[Inline]:
    """Split ``text`` at line ends into pieces whose mrkdwn fits ``limit``
    (rich text is kept whole and cut by :func:`mrkdwn`)."""
    if not isinstance(text, str):
        return [text] if inline_plain(text).strip() else []
    chunks: list[Inline] = []
    current: list[str] = []
    for line in text.split("\n"):
        candidate = "\n".join([*current, line])
        if len(mrkdwn(candidate, 10 * limit + 10)) <= limit:
            current.append(line)
            continue
        if current:
            chunks.append("\n".join(current))
        current = [line]
    if current:
        chunks.append("\n".join(current))
    return [c for c in chunks if isinstance(c, str) and c.strip()]


class _Ids:
    """Makes repeated action ids unique within one message."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, action_id: str) -> str:
        n = self.seen.get(action_id, 0) + 1
        self.seen[action_id] = n
        return action_id if n == 1 else f"{action_id}{DUP_SEP}{n}"


def core_action_id(action_id: str) -> str:
    """The core's action id for a rendered one (drops the uniqueness suffix)."""
    base, sep, n = action_id.rpartition(DUP_SEP)
    return base if sep and n.isdigit() else action_id


def _fits(what: str, value: str, limit: int) -> bool:
    if len(value) > limit:
        log.warning("dropping a Slack element: its %s is %d characters (limit %d)", what,
                    len(value), limit)
        return False
    return True


def _element(el: Button | Select | LinkButton, ids: _Ids) -> Block | None:
    if isinstance(el, Button):
        if el.disabled:  # Block Kit has no disabled button: leave it out
            return None
        if not (_fits("action_id", el.action_id, ACTION_ID - 4)
                and _fits("value", el.value, BUTTON_VALUE)):
            return None
        out: Block = {"type": "button", "text": _plain_obj(el.label, BUTTON_TEXT),
                      "action_id": ids(el.action_id), "value": el.value}
        if el.style != "default":
            out["style"] = el.style
        return out
    if isinstance(el, LinkButton):
        if not el.url.startswith(("http://", "https://")) or not _fits("url", el.url, URL):
            return None
        return {"type": "button", "text": _plain_obj(el.label, BUTTON_TEXT), "url": el.url,
                "action_id": ids(LINK_ACTION)}
    if not _fits("action_id", el.action_id, ACTION_ID - 4):
        return None
    options = [{"text": _plain_obj(o.label, OPTION_TEXT), "value": o.value}
               for o in el.options if _fits("option value", o.value, OPTION_VALUE)]
    if len(options) > SELECT_OPTIONS:
        log.warning("select %s: showing the first %d of %d options", el.action_id,
                    SELECT_OPTIONS, len(options))
        options = options[:SELECT_OPTIONS]
    if not options:
        return None
    out = {"type": "multi_static_select" if el.multi else "static_select",
           "action_id": ids(el.action_id),
           "placeholder": _plain_obj(el.placeholder, PLACEHOLDER), "options": options}
    initial = [o for o in options if o["value"] in el.initial]
    if el.multi:
        if el.max_selected:
            out["max_selected_items"] = el.max_selected
        if initial:
            out["initial_options"] = initial
    elif initial:
        out["initial_option"] = initial[0]
    return out


def _section_blocks(block: Section) -> list[Block]:
    out: list[Block] = []
    texts = _chunks(block.text, SECTION_TEXT)
    fields = [{"type": "mrkdwn", "text": mrkdwn((Strong(f.label), "\n", *inline(f.value)),
                                                FIELD_TEXT)}
              for f in block.fields]
    for text in texts:
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn(
            text, SECTION_TEXT)}})
    for i in range(0, len(fields), SECTION_FIELDS):
        group = fields[i:i + SECTION_FIELDS]
        if i == 0 and out:
            out[-1]["fields"] = group  # the last text and the first fields share a block
        else:
            out.append({"type": "section", "fields": group})
    return out


def _render_one(block: Any, ids: _Ids) -> list[Block]:
    if isinstance(block, Header):
        return [{"type": "header", "text": _plain_obj(block.text, HEADER_TEXT)}] \
            if block.text.strip() else []
    if isinstance(block, Section):
        return _section_blocks(block)
    if isinstance(block, SmallPrint):
        return [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": mrkdwn(block.text, CONTEXT_TEXT)}]}] \
            if inline_plain(block.text).strip() else []
    if isinstance(block, Preformatted):
        body = escape(block.text.replace("`", chr(0x2CB)))
        room = SECTION_TEXT - 8
        if len(body) > room:
            cut = body[:room - 1]
            amp = cut.rfind("&")
            if amp > len(cut) - 6:
                cut = cut[:amp]
            body = cut + ELLIPSIS
        return [{"type": "section", "text": {"type": "mrkdwn", "text": f"```\n{body}\n```"}}]
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    if isinstance(block, Image):
        # Slack fetches images itself: a data: URL (or an over-long one) cannot be shown.
        if block.url.startswith(("http://", "https://")) and len(block.url) <= URL:
            return [{"type": "image", "image_url": block.url,
                     "alt_text": plain(block.alt, IMAGE_ALT) or "image"}]
        return [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": mrkdwn(block.alt or "image", CONTEXT_TEXT)}]}]
    if isinstance(block, Actions):
        elements = [e for e in (_element(el, ids) for el in block.elements) if e is not None]
        return [{"type": "actions", "elements": elements[i:i + ACTIONS_ELEMENTS]}
                for i in range(0, len(elements), ACTIONS_ELEMENTS)]
    log.warning("no Slack rendering for %s", type(block).__name__)
    return []


def _fit(blocks: list[Block], max_blocks: int) -> list[Block]:
    """Keep at most ``max_blocks``: interactive blocks first, then the others in
    order, with one ellipsis block where text was left out."""
    if len(blocks) <= max_blocks:
        return blocks
    if max_blocks <= 1:
        return []
    actions = [i for i, b in enumerate(blocks) if b["type"] == "actions"][: max_blocks - 1]
    keep = set(actions)
    budget = max_blocks - 1 - len(keep)
    for i, b in enumerate(blocks):
        if budget <= 0:
            break
        if b["type"] != "actions":
            keep.add(i)
            budget -= 1
    out: list[Block] = []
    cut = False
    for i, b in enumerate(blocks):
        if i in keep:
            out.append(b)
        elif not cut:
            out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": ELLIPSIS}]})
            cut = True
    log.warning("message shortened from %d to %d Slack blocks", len(blocks), len(out))
    return out


def render_blocks(blocks: Iterable[Any], *, max_blocks: int = MESSAGE_BLOCKS) -> list[Block]:
    """Block Kit blocks for core blocks (a message: 50 at most; a view: 100)."""
    ids = _Ids()
    out: list[Block] = []
    for block in blocks:
        out += _render_one(block, ids)
    return _fit(out, max_blocks)


def fallback_text(message: Message) -> str:
    """The notification / screen-reader text: ``message.text`` as mrkdwn."""
    text = message.text.strip()
    if not text:
        for block in message.blocks:
            if isinstance(block, Header | Section | SmallPrint) \
                    and inline_plain(block.text).strip():
                return mrkdwn(block.text, MESSAGE_TEXT)
    return mrkdwn(text or ELLIPSIS, MESSAGE_TEXT)


def render_message(message: Message) -> dict[str, Any]:
    """``{"text": ..., "blocks": [...]}`` for chat.postMessage / chat.update /
    chat.postEphemeral / a response_url. A message with no blocks gets one
    section with its text."""
    blocks = list(message.blocks) or ([Section(message.text)] if message.text.strip() else [])
    rendered = render_blocks(blocks)
    if message.accent is not None:
        # Block Kit has no colour; a legacy attachment's colour bar carries the accent.
        return {"text": fallback_text(message), "blocks": [],
                "attachments": [{"color": ACCENT_COLOURS[message.accent],
                                 "blocks": rendered}]}
    return {"text": fallback_text(message), "blocks": rendered}


def render_home(message: Message) -> dict[str, Any]:
    """The App Home tab view (``views.publish``) for a core message."""
    blocks = list(message.blocks) or [Section(message.text)]
    return {"type": "home", "blocks": render_blocks(blocks, max_blocks=VIEW_BLOCKS)}


# --- forms as modals -----------------------------------------------------------------


def _initial_epoch(value: str) -> int | None:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return int(moment.timestamp()) if moment.tzinfo is not None else None


def _input(field: FormField) -> Block:
    element: Block
    if field.kind in ("text", "textarea"):
        max_length = max(1, min(field.max_length, INPUT_MAX_LENGTH))
        element = {"type": "plain_text_input", "max_length": max_length}
        if field.kind == "textarea":
            element["multiline"] = True
        if field.initial:
            element["initial_value"] = field.initial[:max_length]
    elif field.kind == "number":
        element = {"type": "number_input", "is_decimal_allowed": False}
        if field.initial:
            element["initial_value"] = field.initial
    elif field.kind == "datetime":
        # Slack shows the picker in the reader's own zone and returns an epoch.
        element = {"type": "datetimepicker"}
        epoch = _initial_epoch(field.initial) if field.initial else None
        if epoch is not None:
            element["initial_date_time"] = epoch
    else:
        options = [{"text": _plain_obj(o.label, OPTION_TEXT), "value": o.value}
                   for o in field.options if _fits("option value", o.value, OPTION_VALUE)]
        options = options[:SELECT_OPTIONS]
        element = {"type": "static_select", "options": options}
        chosen = next((o for o in options if o["value"] == field.initial), None)
        if chosen is not None:
            element["initial_option"] = chosen
    element["action_id"] = "value"
    block: Block = {"type": "input", "block_id": field.name[:BLOCK_ID],
                    "optional": not field.required,
                    "label": _plain_obj(field.label, INPUT_LABEL), "element": element}
    if field.hint:
        block["hint"] = _plain_obj(field.hint, INPUT_HINT)
    return block


def encode_metadata(*, context: str, channel_id: str, thread_id: str | None) -> str:
    """The modal's ``private_metadata``: the form's context and where it was
    opened (replies to the submission go there). Raises ValueError past 3,000."""
    data = json.dumps({"c": context, "ch": channel_id, "th": thread_id},
                      separators=(",", ":"), ensure_ascii=False)
    if len(data) > PRIVATE_METADATA:
        raise ValueError(f"form context too long for Slack ({len(data)} characters)")
    return data


def render_modal(form: Form, *, metadata: str, intro: Message | None = None) -> dict[str, Any]:
    """A ``views.open`` modal for ``form``; ``intro`` (the message that carried
    the form) is shown above the inputs, without its buttons. Raises ValueError
    if ``form_id`` is too long to be a callback id."""
    if len(form.form_id) > CALLBACK_ID:
        raise ValueError(f"form id too long for Slack: {form.form_id[:40]}...")
    inputs = [_input(f) for f in form.fields[:VIEW_BLOCKS]]
    intro_blocks: list[Any] = []
    if intro is not None:
        intro_blocks = [b for b in intro.blocks if not isinstance(b, Actions)]
        if not intro_blocks and intro.text.strip() and intro.text.strip() != form.title:
            intro_blocks = [Section(intro.text)]
    head = render_blocks(intro_blocks, max_blocks=max(0, VIEW_BLOCKS - len(inputs)))
    if len(head) > VIEW_BLOCKS - len(inputs):
        head = []
    return {
        "type": "modal",
        "callback_id": form.form_id,
        "title": _plain_obj(form.title, MODAL_TITLE),
        "submit": _plain_obj(form.submit_label, MODAL_BUTTON),
        "private_metadata": metadata,
        "blocks": head + inputs,
    }
