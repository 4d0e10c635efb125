"""Render a digest: HTML email (fluid table layout: 100% wide up to 600 px,
so a 375 px phone shows every line; CSS inlined for Gmail and Outlook; a
preheader), plain-text alternative (wrapped at 78 columns, paragraphs
kept) and a short chat summary. Items appear grouped by topic in the
numbers' order: the archive numbers them in reading order.

Templates are Jinja2 with autoescaping on for ``.html``. Every string comes
through the ``gettext`` callable passed in (``gettext(msgid, **params) -> str``
in the reader's language): digests know nothing of the core's i18n. Item text
is already plain (feed HTML went through nh3 in normalisation) and is escaped
again by the template.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

import css_inline
from babel.dates import format_date
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from digests.taxonomy import Taxonomy

Gettext = Callable[..., str]


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction; translated later by the reader's gettext."""
    return msgid


LANGUAGE_NAMES = {"en": N_("English"), "fr": N_("French"), "es": N_("Spanish"),
                  "other": N_("other language")}


@dataclass(frozen=True, slots=True)
class SourceView:
    """A source of an item: the feed's title and the entry's link."""

    feed_title: str
    link: str


@dataclass(frozen=True, slots=True)
class ItemView:
    """An item as the templates see it. ``published_at``: aware datetime.
    ``matched``: the taxonomy terms found; ``suggested_by``: a name, with
    ``by_observer`` when an observer suggested it."""

    position: int
    title: str
    url: str
    summary: str
    language: str
    topic: str
    matched: tuple[str, ...]
    published_at: datetime
    sources: tuple[SourceView, ...] = field(default=())
    suggested_by: str | None = None
    by_observer: bool = False


@dataclass(frozen=True, slots=True)
class Rendered:
    """``subject``, ``html`` (CSS inlined), ``text`` and the chat ``summary``
    (first line: its title)."""

    subject: str
    html: str
    text: str
    summary: str


WIDTH = 78


def wrap(text: str, indent: int = 0, hanging: int | None = None) -> str:
    """``text`` wrapped at :data:`WIDTH` columns, each paragraph (``\n\n``)
    kept, indented by ``indent`` spaces (continuation lines by ``hanging``,
    default ``indent``). A word longer than a line (a URL) is not broken."""
    first, rest = " " * indent, " " * (indent if hanging is None else hanging)
    paras = [p for p in str(text).split("\n\n") if p.strip()] or [""]
    return "\n\n".join(textwrap.fill(" ".join(p.split()), width=WIDTH, initial_indent=first,
                                     subsequent_indent=rest, break_long_words=False,
                                     break_on_hyphens=False) for p in paras)


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("digests", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = wrap
    return env


def why_line(item: ItemView, gettext: Gettext) -> str:
    """The "why included" line: the phrases of the item that matched (as the
    item writes them, at most five), its number of sources when several,
    and who suggested it."""
    parts = []
    if item.matched:
        parts.append(gettext(N_("Why included: it mentions {terms}."),
                             terms=", ".join(f"“{t}”" for t in item.matched[:5])))
    if len({s.feed_title for s in item.sources}) > 1:
        parts.append(gettext(N_("Reported by {n} sources."),
                             n=len({s.feed_title for s in item.sources})))
    if item.suggested_by:
        msg = (N_("Suggested by {name} (observer).") if item.by_observer
               else N_("Suggested by {name}."))
        parts.append(gettext(msg, name=item.suggested_by))
    if not parts:
        parts.append(gettext(N_("Why included: added by the secretariat.")))
    return " ".join(parts)


def _decorate(items: Sequence[ItemView], *, taxonomy: Taxonomy, language: str,
              gettext: Gettext, zone: ZoneInfo) -> list[dict[str, object]]:
    out = []
    for it in items:
        topic = taxonomy.topic(it.topic)
        out.append({
            "position": it.position, "title": it.title, "url": it.url, "summary": it.summary,
            "language_name": gettext(LANGUAGE_NAMES.get(it.language, LANGUAGE_NAMES["other"])),
            "topic_key": it.topic,
            "topic_label": topic.label(language) if topic else gettext(N_("Other")),
            "published": format_date(it.published_at.astimezone(zone).date(), "medium",
                                     locale=language),
            "sources": it.sources, "why": why_line(it, gettext),
            "paragraphs": [p for p in it.summary.split("\n\n") if p.strip()],
            "source_line": ", ".join(f"{s.feed_title} <{s.link}>" for s in it.sources),
        })
    return out


def render_digest(*, items: Sequence[ItemView], week: str, taxonomy: Taxonomy, language: str,
                  gettext: Gettext, ngettext: Gettext | None = None, alliance: str = "",
                  timezone: str = "UTC") -> Rendered:
    """Render one digest in ``language`` with ``gettext`` (same language) and
    ``ngettext(singular, plural, n, **params)`` for counts (its plural rule;
    without one, English's).
    Items are grouped by topic in the order of their numbers (the archive
    numbers them by topic in the taxonomy's order). An empty review says so."""
    zone = ZoneInfo(timezone)
    views = _decorate(items, taxonomy=taxonomy, language=language, gettext=gettext, zone=zone)
    order = {t.key: i for i, t in enumerate(taxonomy.topics)}
    groups: dict[str, dict[str, object]] = {}
    for v in sorted(views, key=lambda v: (v["position"], order.get(str(v["topic_key"]), 99))):
        g = groups.setdefault(str(v["topic_key"]), {"label": v["topic_label"], "entries": []})
        g["entries"].append(v)  # type: ignore[attr-defined]
    subject = gettext(N_("Press review, week {week}"), week=week)
    if not views:
        intro = gettext(N_("No article this week was about the alliance's topics, so this "
                           "review is empty rather than filled with off-topic news."))
    elif len(views) == 1:
        intro = gettext(N_("One article this week."))
    else:
        intro = gettext(N_("{n} articles this week, grouped by topic."), n=len(views))
    if ngettext is None:
        def ngettext(one: str, many: str, n: int, /, **params: object) -> str:
            return gettext(one if n == 1 else many, **{"n": n, **params})
    closing = ngettext("{n} article; the full review went to the secretariat by email.",
                       "{n} articles; the full review went to the secretariat by email.",
                       len(views))
    preheader = " · ".join(str(v["title"]) for v in views[:3]) or intro
    ctx = {"_": gettext, "subject": subject, "groups": list(groups.values()),
           "count": len(views), "week": week, "alliance": alliance, "language": language,
           "items": views, "intro": intro, "preheader": preheader[:140],
           "closing": closing}
    env = _env()
    raw_html = env.get_template("email.html").render(ctx)
    html = css_inline.inline(raw_html, keep_style_tags=False, load_remote_stylesheets=False)
    text = env.get_template("email.txt").render(ctx)
    summary = env.get_template("summary.txt").render(ctx).strip()
    return Rendered(subject=subject, html=html, text=text, summary=summary)
