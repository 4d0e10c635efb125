"""Feed parsing (feedparser-rs, feedparser) and normalisation of entries."""

from __future__ import annotations

from digests.parse.normalise import Entry, ParsedFeed, canonical_url, parse_feed, plain_text

__all__ = ["Entry", "ParsedFeed", "canonical_url", "parse_feed", "plain_text"]
