"""An independent checker of Block Kit's published limits, for tests.

Written from https://api.slack.com/reference/block-kit (not from the adapter's
constants), so a wrong limit in the adapter shows up as a failure here.
"""

from __future__ import annotations

from typing import Any


def _text(obj: Any, limit: int, where: str, kind: str | None = None) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where}: not a text object"]
    if kind and obj["type"] != kind:
        return [f"{where}: must be {kind}"]
    text = obj.get("text", "")
    problems = []
    if not text:
        problems.append(f"{where}: empty text")
    if len(text) > limit:
        problems.append(f"{where}: {len(text)} > {limit}")
    return problems


def _element(el: dict[str, Any], where: str) -> list[str]:
    p: list[str] = []
    if len(el.get("action_id", "")) > 255:
        p.append(f"{where}: action_id > 255")
    if el["type"] == "button":
        p += _text(el["text"], 75, f"{where}.text", "plain_text")
        if len(el.get("value", "")) > 2000:
            p.append(f"{where}: value > 2000")
        if len(el.get("url", "")) > 3000:
            p.append(f"{where}: url > 3000")
        if el.get("style") not in (None, "primary", "danger"):
            p.append(f"{where}: bad style")
    elif el["type"] == "static_select":
        if "placeholder" in el:
            p += _text(el["placeholder"], 150, f"{where}.placeholder", "plain_text")
        opts = el.get("options", [])
        if not 1 <= len(opts) <= 100:
            p.append(f"{where}: {len(opts)} options (1..100)")
        for i, o in enumerate(opts):
            p += _text(o["text"], 75, f"{where}.options[{i}]", "plain_text")
            if not 1 <= len(o["value"]) <= 150:
                p.append(f"{where}.options[{i}]: value length {len(o['value'])}")
    elif el["type"] == "plain_text_input":
        if not 0 < el.get("max_length", 3000) <= 3000:
            p.append(f"{where}: max_length")
    elif el["type"] not in ("number_input", "datetimepicker"):
        p.append(f"{where}: unexpected element {el['type']}")
    return p


def block_problems(blocks: list[dict[str, Any]], *, max_blocks: int = 50) -> list[str]:
    """Every limit ``blocks`` break (empty when Slack would accept them)."""
    p: list[str] = []
    if len(blocks) > max_blocks:
        p.append(f"{len(blocks)} blocks > {max_blocks}")
    ids: set[str] = set()
    for n, b in enumerate(blocks):
        w = f"blocks[{n}]({b['type']})"
        if len(b.get("block_id", "")) > 255:
            p.append(f"{w}: block_id > 255")
        if b["type"] == "header":
            p += _text(b["text"], 150, w, "plain_text")
        elif b["type"] == "section":
            if "text" not in b and "fields" not in b:
                p.append(f"{w}: neither text nor fields")
            if "text" in b:
                p += _text(b["text"], 3000, w)
            fields = b.get("fields", [])
            if len(fields) > 10:
                p.append(f"{w}: {len(fields)} fields > 10")
            for i, f in enumerate(fields):
                p += _text(f, 2000, f"{w}.fields[{i}]")
        elif b["type"] == "context":
            if not 1 <= len(b["elements"]) <= 10:
                p.append(f"{w}: {len(b['elements'])} elements")
            for i, e in enumerate(b["elements"]):
                p += _text(e, 3000, f"{w}.elements[{i}]")
        elif b["type"] == "actions":
            if not 1 <= len(b["elements"]) <= 25:
                p.append(f"{w}: {len(b['elements'])} elements (1..25)")
            for i, e in enumerate(b["elements"]):
                p += _element(e, f"{w}.elements[{i}]")
                aid = e.get("action_id")
                if aid in ids:
                    p.append(f"{w}: duplicate action_id {aid}")
                ids.add(aid)
        elif b["type"] == "image":
            if not b["image_url"].startswith(("http://", "https://")) \
                    or len(b["image_url"]) > 3000:
                p.append(f"{w}: bad image_url")
            if not 0 < len(b["alt_text"]) <= 2000:
                p.append(f"{w}: alt_text length")
        elif b["type"] == "input":
            p += _text(b["label"], 2000, f"{w}.label", "plain_text")
            if "hint" in b:
                p += _text(b["hint"], 2000, f"{w}.hint", "plain_text")
            p += _element(b["element"], f"{w}.element")
        elif b["type"] != "divider":
            p.append(f"{w}: unknown block type")
    return p


def message_problems(body: dict[str, Any]) -> list[str]:
    p = block_problems(body["blocks"])
    if not body.get("text") or len(body["text"]) > 40000:
        p.append("text missing or > 40000")
    return p


def modal_problems(view: dict[str, Any]) -> list[str]:
    p = block_problems(view["blocks"], max_blocks=100)
    for key in ("title", "submit"):
        p += _text(view[key], 24, key, "plain_text")
    if not 0 < len(view["callback_id"]) <= 255:
        p.append("callback_id length")
    if len(view.get("private_metadata", "")) > 3000:
        p.append("private_metadata > 3000")
    return p
