"""One email renderer: a core :class:`~bot.types.Message` as an email.

``render_email(message, ...)`` gives an :class:`~bot.mail.OutgoingEmail` with

- an HTML part from ``templates/email/message.html`` (Jinja2, autoescaped;
  the CSS inlined with css-inline, since mail clients drop ``<style>``), the
  ``accent`` as the colour of a side bar;
- a text part from ``templates/email/message.txt``, paragraphs wrapped at
  :data:`WIDTH` columns (URLs never broken);
- each ``Image(png=...)`` as an inline ``cid:`` part (multipart/related) and
  ``Message.attachments`` as attachments.

Inline spans: Strong, Emphasis and Code as HTML markup (plain in text), Link
as ``<a>`` (text: ``text (url)``; only http(s) and mailto are linked), Mention
as ``@name``, Time as its fallback. Buttons cannot be pressed in an email: the
capability passes ``links`` mapping ``(action_id, value)`` to a URL (a signed
vote link); a button with a link becomes a link button, one without is shown
disabled (HTML) or left out (text). Selects are left out, LinkButtons linked.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from bot.mail import Attachment as MailAttachment
from bot.mail import OutgoingEmail
from bot.types import (
    Actions,
    Button,
    Code,
    Divider,
    Emphasis,
    Header,
    Image,
    Inline,
    Link,
    LinkButton,
    Mention,
    Message,
    Preformatted,
    Section,
    SmallPrint,
    Strong,
    Time,
    inline,
    inline_plain,
    plain_times,
)

#: Columns of the text part.
WIDTH = 78
TEMPLATES = Path(__file__).parent / "templates" / "email"
#: Side-bar colour per accent (none: a neutral grey).
ACCENTS = {"info": "#1565c0", "success": "#2e7d32", "warning": "#ef6c00",
           "danger": "#c62828", None: "#bdbdbd"}
Links = Mapping[tuple[str, str], str]


@cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), keep_trailing_newline=True,
                       autoescape=select_autoescape(enabled_extensions=("html",),
                                                    default_for_string=False))


def _safe_url(url: str) -> bool:
    return url.lower().startswith(("http://", "https://", "mailto:"))


def inline_html(text: Inline) -> Markup:
    """Rich text as escaped HTML (newlines as ``<br>``)."""
    out: list[str] = []
    for piece in inline(text):
        if isinstance(piece, str):
            out.append(str(escape(plain_times(piece))))
        elif isinstance(piece, Strong):
            out.append(f"<strong>{escape(piece.text)}</strong>")
        elif isinstance(piece, Emphasis):
            out.append(f"<em>{escape(piece.text)}</em>")
        elif isinstance(piece, Code):
            out.append(f"<code>{escape(piece.text)}</code>")
        elif isinstance(piece, Link):
            label = escape(piece.text or piece.url)
            out.append(f'<a href="{escape(piece.url)}">{label}</a>' if _safe_url(piece.url)
                       else str(label))
        elif isinstance(piece, Mention):
            out.append(f"@{escape(piece.name)}")
        elif isinstance(piece, Time):
            out.append(str(escape(piece.fallback)))
    # Every piece above was escaped (or is our own tag around escaped text).
    return Markup("".join(out).replace("\n", "<br>\n"))  # noqa: S704


def wrap(text: str, width: int = WIDTH) -> str:
    """``text`` wrapped at ``width`` columns, line by line (its own line breaks
    kept; list items indented under their text; long words such as URLs whole)."""
    lines: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            lines.append(line.rstrip())
            continue
        indent = "  " if line.lstrip().startswith(("- ", "* ", "• ")) else ""
        lines += textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False,
                               subsequent_indent=indent) or [""]
    return "\n".join(lines)


def _cid(png: bytes, domain: str) -> str:
    return f"img-{hashlib.sha256(png).hexdigest()[:16]}@{domain}"


def _action_items(block: Actions, links: Links) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for el in block.elements:
        if isinstance(el, Button):
            url = "" if el.disabled else links.get((el.action_id, el.value), "")
            items.append({"label": el.label, "url": url if _safe_url(url) else "",
                          "style": el.style})
        elif isinstance(el, LinkButton) and _safe_url(el.url):
            items.append({"label": el.label, "url": el.url, "style": "default"})
    return items


def _blocks(message: Message, links: Links, domain: str
            ) -> tuple[list[dict[str, Any]], list[str], list[MailAttachment]]:
    """(HTML block views, text blocks, inline images) of ``message``."""
    html: list[dict[str, Any]] = []
    text: list[str] = []
    images: list[MailAttachment] = []
    for b in message.blocks or (Section(message.text),):
        if isinstance(b, Header):
            html.append({"kind": "header", "html": inline_html(b.text)})
            text.append(wrap(plain_times(b.text)))
        elif isinstance(b, Section):
            fields = [(f.label, inline_html(f.value)) for f in b.fields]
            html.append({"kind": "section", "html": inline_html(b.text), "fields": fields})
            parts = [wrap(inline_plain(b.text))] if inline_plain(b.text) else []
            parts += [wrap(f"{f.label}: {inline_plain(f.value)}") for f in b.fields]
            text.append("\n".join(parts))
        elif isinstance(b, Preformatted):
            html.append({"kind": "pre", "text": b.text})
            text.append(b.text)
        elif isinstance(b, SmallPrint):
            html.append({"kind": "context", "html": inline_html(b.text)})
            text.append(wrap(inline_plain(b.text)))
        elif isinstance(b, Actions):
            items = _action_items(b, links)
            if items:
                html.append({"kind": "actions", "buttons": items})
            lines = [f"{i['label']}: {i['url']}" for i in items if i["url"]]
            if lines:
                text.append("\n".join(lines))
        elif isinstance(b, Image):
            if b.png:
                cid = _cid(b.png, domain)
                if all(a.inline_cid != cid for a in images):
                    images.append(MailAttachment(f"{cid.split('@')[0]}.png", "image/png",
                                                 b.png, inline_cid=cid))
                html.append({"kind": "image", "src": f"cid:{cid}", "alt": b.alt})
            elif _safe_url(b.url):
                html.append({"kind": "image", "src": b.url, "alt": b.alt})
            text.append(wrap(f"[{b.alt}]"))
        elif isinstance(b, Divider):
            html.append({"kind": "divider"})
            text.append("-" * 20)
    return html, [t for t in text if t], images


def render_email(message: Message, *, to: tuple[str, ...], subject: str, language: str = "en",
                 links: Links | None = None, domain: str = "convene.local",
                 message_id: str | None = None, reply_to: str | None = None,
                 in_reply_to: str | None = None,
                 headers: tuple[tuple[str, str], ...] = ()) -> OutgoingEmail:
    """``message`` as an email to ``to`` (see the module doc). ``links``:
    ``(action_id, value)`` -> URL for the buttons that have one; ``domain``
    names inline images' Content-IDs; ``language`` is the HTML ``lang``."""
    html_blocks, text_blocks, images = _blocks(message, links or {}, domain)
    env = _env()
    raw = env.get_template("message.html").render(
        lang=language, subject=subject, blocks=html_blocks, accent=ACCENTS[message.accent])
    html = css_inline.inline(raw, keep_style_tags=False, load_remote_stylesheets=False)
    text = env.get_template("message.txt").render(blocks=text_blocks)
    files = tuple(MailAttachment(a.filename, a.mime_type, a.data) for a in message.attachments)
    return OutgoingEmail(to=to, subject=subject, text=text, html=html, message_id=message_id,
                         reply_to=reply_to, in_reply_to=in_reply_to, headers=headers,
                         attachments=(*images, *files))
