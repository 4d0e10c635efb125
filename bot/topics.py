"""The alliance's scope topics as people read them: a topic key
(``soil_measurement``, from the press review's taxonomy) becomes its label in
the reader's language; anything else is the words someone typed, unchanged."""

from __future__ import annotations

from functools import cache

from digests.taxonomy import Taxonomy, load_taxonomy


@cache
def _taxonomy() -> Taxonomy:
    return load_taxonomy()


def warm() -> None:
    """Read the taxonomy now: start-up calls it, so the first request that
    shows a topic (a calendar feed of a series with a scope topic) does not
    pay the file's parse, about 0.3 s on this machine's slowest runs."""
    _taxonomy()


def topic_text(topic: str, language: str) -> str:
    """``topic`` for a reader of ``language``: the label of the scope topic
    whose key it is (``soil_measurement`` -> ``Mesure du carbone des sols``), else
    ``topic`` itself (a series' free-text topic)."""
    found = _taxonomy().topic(topic.strip())
    return str(found.label(language)) if found is not None else topic
