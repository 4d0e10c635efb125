"""Discord's limits on message bodies, modals and scheduled events, and a checker.

Sources: https://discord.com/developers/docs/resources/message#embed-object-embed-limits,
https://discord.com/developers/docs/interactions/message-components,
https://discord.com/developers/docs/resources/guild-scheduled-event.
"""

from __future__ import annotations

from typing import Any

CONTENT = 2000
EMBEDS = 10
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBED_TOTAL = 6000
ACTION_ROWS = 5
ROW_BUTTONS = 5
CUSTOM_ID = 100
BUTTON_LABEL = 80
SELECT_OPTIONS = 25
OPTION_LABEL = 100
OPTION_VALUE = 100
PLACEHOLDER = 150
URL = 512
MODAL_TITLE = 45
MODAL_COMPONENTS = 5
TEXT_INPUT_LABEL = 45
TEXT_INPUT_PLACEHOLDER = 100
TEXT_INPUT_VALUE = 4000
CHOICES = 25
CHOICE_NAME = 100
EVENT_NAME = 100
EVENT_DESCRIPTION = 1000
EVENT_LOCATION = 100


def embed_chars(embed: dict[str, Any]) -> int:
    """Characters that count towards the 6,000 of a message's embeds."""
    n = len(str(embed.get("title", ""))) + len(str(embed.get("description", "")))
    n += len(str((embed.get("footer") or {}).get("text", "")))
    n += len(str((embed.get("author") or {}).get("name", "")))
    for f in embed.get("fields") or ():
        n += len(str(f.get("name", ""))) + len(str(f.get("value", "")))
    return n


def _component_problems(comp: dict[str, Any], where: str) -> list[str]:
    out: list[str] = []
    cid = comp.get("custom_id")
    if cid is not None and not 1 <= len(cid) <= CUSTOM_ID:
        out.append(f"{where}: custom_id of {len(cid)} characters")
    if comp.get("type") == 2:
        if len(comp.get("label", "")) > BUTTON_LABEL:
            out.append(f"{where}: button label over {BUTTON_LABEL}")
        if (comp.get("style") == 5) != ("url" in comp) or (cid is None) == ("url" not in comp):
            out.append(f"{where}: a link button has a url and no custom_id, others the reverse")
    if comp.get("type") == 3:
        options = comp.get("options") or []
        if not 1 <= len(options) <= SELECT_OPTIONS:
            out.append(f"{where}: {len(options)} select options")
        for o in options:
            if len(o.get("label", "")) > OPTION_LABEL or len(o.get("value", "")) > OPTION_VALUE:
                out.append(f"{where}: option over {OPTION_LABEL} characters")
        if len(comp.get("placeholder", "")) > PLACEHOLDER:
            out.append(f"{where}: placeholder over {PLACEHOLDER}")
        if comp.get("max_values", 1) > len(options):
            out.append(f"{where}: max_values above the options")
    return out


def message_problems(body: dict[str, Any]) -> list[str]:
    """Every way ``body`` (a message create/edit JSON) breaks Discord's limits;
    empty when it fits."""
    out: list[str] = []
    if len(body.get("content") or "") > CONTENT:
        out.append(f"content over {CONTENT}")
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS:
        out.append(f"{len(embeds)} embeds")
    for i, e in enumerate(embeds):
        if len(e.get("title", "")) > EMBED_TITLE:
            out.append(f"embed {i}: title over {EMBED_TITLE}")
        if len(e.get("description", "")) > EMBED_DESCRIPTION:
            out.append(f"embed {i}: description over {EMBED_DESCRIPTION}")
        fields = e.get("fields") or []
        if len(fields) > EMBED_FIELDS:
            out.append(f"embed {i}: {len(fields)} fields")
        for f in fields:
            if not f.get("name") or not f.get("value"):
                out.append(f"embed {i}: a field without name or value")
            if len(f.get("name", "")) > FIELD_NAME or len(f.get("value", "")) > FIELD_VALUE:
                out.append(f"embed {i}: field over its limit")
        if len((e.get("footer") or {}).get("text", "")) > FOOTER:
            out.append(f"embed {i}: footer over {FOOTER}")
    if sum(embed_chars(e) for e in embeds) > EMBED_TOTAL:
        out.append(f"embeds over {EMBED_TOTAL} characters in all")
    rows = body.get("components") or []
    if len(rows) > ACTION_ROWS:
        out.append(f"{len(rows)} component rows")
    ids: list[str] = []
    for r, row in enumerate(rows):
        comps = row.get("components") or []
        if row.get("type") != 1 or not 1 <= len(comps) <= ROW_BUTTONS:
            out.append(f"row {r}: {len(comps)} components")
        if any(c.get("type") == 3 for c in comps) and len(comps) > 1:
            out.append(f"row {r}: a select shares its row")
        for c, comp in enumerate(comps):
            out += _component_problems(comp, f"row {r} item {c}")
            if comp.get("custom_id"):
                ids.append(comp["custom_id"])
    if len(ids) != len(set(ids)):
        out.append("custom_ids repeat within the message")
    if body.get("allowed_mentions") != {"parse": []}:
        out.append("allowed_mentions does not forbid every mention")
    if not (body.get("content") or embeds or body.get("attachments")):
        out.append("empty message")
    return out


def modal_problems(modal: dict[str, Any]) -> list[str]:
    """Every way a modal JSON breaks Discord's limits; empty when it fits."""
    out: list[str] = []
    if not 1 <= len(modal.get("title", "")) <= MODAL_TITLE:
        out.append(f"title not 1..{MODAL_TITLE} characters")
    if not 1 <= len(modal.get("custom_id", "")) <= CUSTOM_ID:
        out.append("custom_id length")
    comps = modal.get("components") or []
    if not 1 <= len(comps) <= MODAL_COMPONENTS:
        out.append(f"{len(comps)} modal components")
    for i, c in enumerate(comps):
        inner = c.get("components", [c.get("component")])
        for item in inner:
            if item is None:
                out.append(f"component {i} empty")
                continue
            label = c.get("label") if c.get("type") == 18 else item.get("label")
            if not label or len(label) > TEXT_INPUT_LABEL:
                out.append(f"component {i}: label not 1..{TEXT_INPUT_LABEL}")
            if item.get("type") == 4 and not 1 <= item.get("max_length", 1) <= TEXT_INPUT_VALUE:
                out.append(f"component {i}: max_length")
            if len(item.get("placeholder", "")) > TEXT_INPUT_PLACEHOLDER:
                out.append(f"component {i}: placeholder")
            out += _component_problems(item, f"component {i}") if item.get("type") == 3 else []
    return out
