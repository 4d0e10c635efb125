"""``custom_id`` encodings: the state a component carries across restarts.

- ``cv:<action_id>:<value>``: a core Button (``ButtonPress(action_id, value)``);
- ``cvs:<action_id>``: a core Select (the values come with the interaction);
- ``cvo:<token>``: "open the form" (a modal must be an interaction's first
  response, so a form the core returns after the deferral waits behind it);
- ``cvf:<form_id>:<context>``: a modal (``FormSubmission(form_id, context=...)``);
- ``cvk:<token>[:<page>]``: a modal whose form waits in the stash (its id and
  context did not fit, or it takes several modals: ``page`` counts from 0).

A ``~N`` suffix keeps repeated ids unique within one message. Action and form
ids hold no ``:`` (the core's are dotted words). 100 characters at most: an
encoding that would not fit gives None and the element is left out.
"""

from __future__ import annotations

import re

from adapters.discord.limits import CUSTOM_ID

BUTTON = re.compile(r"cv:(?P<action>[^:~]+):(?P<value>.*?)(?:~\d+)?")
SELECT = re.compile(r"cvs:(?P<action>[^:~]+)(?:~\d+)?")
OPENER = re.compile(r"cvo:(?P<token>[A-Za-z0-9_-]+)(?:~\d+)?")
FORM = re.compile(r"cvf:(?P<form>[^:]+):(?P<context>.*)", re.DOTALL)
STASHED_FORM = re.compile(r"cvk:(?P<token>[A-Za-z0-9_-]+)(?::(?P<page>[0-9]{1,2}))?")


def _fits(text: str) -> str | None:
    return text if len(text) <= CUSTOM_ID - 3 else None


def button_id(action_id: str, value: str) -> str | None:
    """``cv:<action_id>:<value>``, or None if it cannot be encoded or fit."""
    if ":" in action_id or "~" in action_id or not action_id or "~" in value:
        return None
    return _fits(f"cv:{action_id}:{value}")


def select_id(action_id: str) -> str | None:
    """``cvs:<action_id>``, or None."""
    if ":" in action_id or "~" in action_id or not action_id:
        return None
    return _fits(f"cvs:{action_id}")


def opener_id(token: str) -> str:
    """``cvo:<token>``."""
    return f"cvo:{token}"


def stashed_id(token: str, page: int = 0) -> str:
    """``cvk:<token>`` (``cvk:<token>:<page>`` past the first page): a modal
    whose form waits in the adapter's stash."""
    return f"cvk:{token}:{page}" if page else f"cvk:{token}"


def form_id(form: str, context: str) -> str | None:
    """``cvf:<form_id>:<context>``, or None when it does not fit 100 characters."""
    if ":" in form or not form:
        return None
    cid = f"cvf:{form}:{context}"
    return cid if len(cid) <= CUSTOM_ID else None


def strip_suffix(value: str) -> str:
    """A button value without the uniqueness suffix."""
    base, sep, n = value.rpartition("~")
    return base if sep and n.isdigit() else value
