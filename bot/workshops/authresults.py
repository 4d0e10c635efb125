"""Judging a received email's ``Authentication-Results`` (RFC 8601).

An email's From is claimed, not proven. The receiving server (the one Convene
reads over IMAP) records what SPF, DKIM and DMARC said; a message is *forged*
when DMARC failed, or SPF failed without a passing DKIM signature. No header
at all (a local delivery, a server that does not check) is *unknown*, which
callers may accept: refusing it would refuse every small organisation's mail.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["pass", "unknown", "forged"]

_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AuthVerdict:
    """``verdict`` and the methods' results seen (``{"dmarc": "fail", ...}``;
    when several headers or signatures disagree, a pass wins for DKIM and a
    fail wins for SPF and DMARC)."""

    verdict: Verdict
    results: dict[str, str]


def judge(headers: Sequence[str]) -> AuthVerdict:
    """The verdict over every ``Authentication-Results`` value in ``headers``."""
    results: dict[str, str] = {}
    for header in headers:
        # Drop RFC 5322 comments: "(sender IP is 192.0.2.1) smtp.mailfrom=..."
        text = re.sub(r"\([^)]*\)", " ", header)
        for method, value in _RESULT.findall(text):
            method, value = method.lower(), value.lower()
            seen = results.get(method)
            if method == "dkim":
                if seen != "pass":
                    results[method] = value
            elif seen is None or value == "fail":
                results[method] = value
    if not results:
        return AuthVerdict("unknown", results)
    dkim_pass = results.get("dkim") == "pass"
    if results.get("dmarc") == "fail" or (results.get("spf") in ("fail", "softfail")
                                          and not dkim_pass):
        return AuthVerdict("forged", results)
    if results.get("dmarc") == "pass" or dkim_pass or results.get("spf") == "pass":
        return AuthVerdict("pass", results)
    return AuthVerdict("unknown", results)
