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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

import css_inline
from babel.dates import format_date
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from digests.classify import Classifier, fold
from digests.taxonomy import LANGUAGES, Taxonomy

Gettext = Callable[..., str]


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction; translated later by the reader's gettext."""
    return msgid


LANGUAGE_NAMES = {"en": N_("English"), "fr": N_("French"), "es": N_("Spanish"),
                  "other": N_("other language")}


@dataclass(frozen=True, slots=True)
class SourceView:
    """A source of an item: its publisher (named by the entry itself: its
    ``<source>`` or its link's site, not the feed's title) and the entry's link."""

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
    #: Why several write-ups are this item ("" when it is one).
    merged: str = ""
    #: How what the secretariat taught moved it: "included:N", "excluded:N",
    #: "up", "down" or "" (see :func:`learned_line`).
    learned_note: str = ""
    #: One of the week's top stories, shown first whatever its topic.
    top: bool = False


def learned_line(item: ItemView, gettext: Gettext, ngettext: Callable[..., str]) -> str:
    """Why the model moved an item, for the secretariat's preview ("" when it did not)."""
    kind, _, n = item.learned_note.partition(":")
    if kind == "included" and n.isdigit():
        return ngettext("Moved up: you included {n} similar item.",
                        "Moved up: you included {n} similar items.", int(n))
    if kind == "excluded" and n.isdigit():
        return ngettext("Moved down: you excluded {n} similar item.",
                        "Moved down: you excluded {n} similar items.", int(n))
    if kind == "up":
        return gettext(N_("Moved up by what you included before."))
    if kind == "down":
        return gettext(N_("Moved down by what you excluded before."))
    return ""


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


_CLASSIFIERS: dict[int, tuple[Taxonomy, Classifier]] = {}


def _classifier(taxonomy: Taxonomy) -> Classifier:
    """One classifier per taxonomy object (its stemmed phrases are compiled once)."""
    found = _CLASSIFIERS.get(id(taxonomy))
    if found is None or found[0] is not taxonomy:
        if len(_CLASSIFIERS) > 8:
            _CLASSIFIERS.clear()
        found = _CLASSIFIERS[id(taxonomy)] = (taxonomy, Classifier(taxonomy))
    return found[1]


def translator(taxonomy: Taxonomy, language: str) -> Callable[[str, str], str | None]:
    """``translate(phrase, its_language)``: a matched phrase in ``language``
    (the reader's), from the taxonomy's ``[[equivalents]]``; None when the
    languages agree or it has no equivalent."""
    clf = _classifier(taxonomy)

    def translate(phrase: str, its_language: str) -> str | None:
        if its_language == language or its_language not in LANGUAGES:
            return None
        return clf.translate(phrase, language=its_language, to=language)

    return translate


def why_line(item: ItemView, gettext: Gettext,
             translate: Callable[[str, str], str | None] | None = None) -> str:
    """The "why included" line: the scope's and the topics' own phrases of
    the item that matched (as the item writes them, at most five; each
    followed by the reader's words for it when the item is in another
    language: “stock de carbone” (soil carbon stock)), its number of
    publishers when several, and who suggested it."""
    parts = []
    if item.matched:
        shown = []
        for t in item.matched[:5]:
            theirs = translate(t, item.language) if translate else None
            shown.append(f"“{t}” ({theirs})" if theirs and fold(theirs) != fold(t) else f"“{t}”")
        parts.append(gettext(N_("Why included: it mentions {terms}."), terms=", ".join(shown)))
    publishers = {s.feed_title for s in item.sources}
    if len(publishers) > 1:
        parts.append(gettext(N_("Reported by {n} publishers."), n=len(publishers)))
    if item.suggested_by:
        msg = (N_("Suggested by {name} (observer).") if item.by_observer
               else N_("Suggested by {name}."))
        parts.append(gettext(msg, name=item.suggested_by))
    if not parts:
        parts.append(gettext(N_("Why included: added by the secretariat.")))
    return " ".join(parts)


def _decorate(items: Sequence[ItemView], *, taxonomy: Taxonomy, language: str,
              gettext: Gettext, zone: ZoneInfo,
              is_safe_link: Callable[[str], bool]) -> list[dict[str, object]]:
    out = []
    translate = translator(taxonomy, language)
    for it in items:
        topic = taxonomy.topic(it.topic)
        # A feed writes its own links: only http(s) and mailto become links, others
        # (javascript:, data:text/html) are dropped and the title stays as text.
        sources = tuple(s if is_safe_link(s.link) else SourceView(s.feed_title, "")
                        for s in it.sources)
        out.append({
            "position": it.position, "title": it.title,
            "url": it.url if is_safe_link(it.url) else "", "summary": it.summary,
            "language_name": gettext(LANGUAGE_NAMES.get(it.language, LANGUAGE_NAMES["other"])),
            "topic_key": it.topic,
            "topic_label": topic.label(language) if topic else gettext(N_("Other")),
            "published": format_date(it.published_at.astimezone(zone).date(), "medium",
                                     locale=language),
            "sources": sources, "why": why_line(it, gettext, translate),
            "paragraphs": [p for p in it.summary.split("\n\n") if p.strip()],
            "source_line": ", ".join(f"{s.feed_title} <{s.link}>" if s.link else s.feed_title
                                     for s in sources),
        })
    return out


def render_digest(*, items: Sequence[ItemView], week: str, taxonomy: Taxonomy, language: str,
                  gettext: Gettext, is_safe_link: Callable[[str], bool],
                  ngettext: Gettext | None = None, alliance: str = "", timezone: str = "UTC",
                  failed: Sequence[Mapping[str, object]] = ()) -> Rendered:
    """Render one digest in ``language`` with ``gettext`` (same language) and
    ``ngettext(singular, plural, n, **params)`` for counts (its plural rule;
    without one, English's). Items are shown in the order of their numbers:
    the top stories (``top``) first under their own heading, then grouped by
    topic (the archive numbers them so). An empty review says so.
    ``is_safe_link`` (the core's ``bot.types.is_safe_url``) decides which item
    and source URLs are written as links; the others are left out. ``failed``:
    the sources that could not be read that week (the build's reports:
    ``url``, ``title``, ``reason``), each named in the email (HTML and text);
    the chat summary does not list them."""
    zone = ZoneInfo(timezone)
    views = _decorate(items, taxonomy=taxonomy, language=language, gettext=gettext, zone=zone,
                      is_safe_link=is_safe_link)
    groups: dict[str, dict[str, object]] = {}
    tops = {it.position for it in items if it.top}
    for v in sorted(views, key=lambda v: int(str(v["position"]))):
        if v["position"] in tops:  # the week's top stories open the review
            key, label = "", gettext(N_("Top stories of the week"))
        else:
            key, label = "topic:" + str(v["topic_key"]), str(v["topic_label"])
        g = groups.setdefault(key, {"label": label, "entries": []})
        g["entries"].append(v)  # type: ignore[attr-defined]
    subject = gettext(N_("Press review, week {week}"), week=week)
    if not views:
        intro = gettext(N_("No article this week was about the alliance's topics, so this "
                           "review is empty rather than filled with off-topic news."))
    elif len(views) == 1:
        intro = gettext(N_("One article this week."))
    else:
        intro = gettext(N_("{n} articles this week: the top stories first, then by topic."),
                        n=len(views))
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
           "failed": [{"name": str(f.get("title") or "") or str(f.get("url") or ""),
                       "url": str(f.get("url") or ""), "reason": str(f.get("reason") or "")}
                      for f in failed],
           "closing": closing}
    env = _env()
    raw_html = env.get_template("email.html").render(ctx)
    html = css_inline.inline(raw_html, keep_style_tags=False, load_remote_stylesheets=False)
    text = env.get_template("email.txt").render(ctx)
    summary = env.get_template("summary.txt").render(ctx).strip()
    return Rendered(subject=subject, html=html, text=text, summary=summary)
