"""Whether the receiving mail server marked a message as failing sender
authentication, from its ``Authentication-Results`` header (RFC 8601).

The adapter hands over the header values top first; the first is the one the
receiving server added (headers further down may come from the sender and are
not trusted). A message is *failed* when DMARC failed, or SPF failed or
soft-failed without a passing DKIM signature. Parsing uses the ``authres``
library, with a small ``method=result`` reader for headers it refuses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import authres

_PAIR = re.compile(r"(?:^|[;\s])([a-z0-9-]+)\s*=\s*([a-z]+)", re.I)


def results(header: str) -> dict[str, set[str]]:
    """``method`` -> the results given for it (lower case) in one header value
    (``"mx; spf=fail; dkim=none; dmarc=fail"`` -> ``{"spf": {"fail"}, ...}``)."""
    found: dict[str, set[str]] = {}
    try:
        parsed = authres.AuthenticationResultsHeader.parse(
            "Authentication-Results: " + " ".join(header.split()))
        pairs = [(str(r.method), str(r.result)) for r in parsed.results]
    except Exception:  # noqa: BLE001  (authres raises its own and ValueError/IndexError)
        body = header.split(";", 1)[1] if ";" in header else header
        pairs = [(m, r) for m, r in _PAIR.findall(body)
                 if "." not in m]  # method=result, not a property like smtp.mailfrom=
    for method, result in pairs:
        found.setdefault(method.lower(), set()).add(result.lower())
    return found


def failed(headers: Sequence[str]) -> str | None:
    """Why the receiving server's verdict is a failure (``"dmarc=fail"``,
    ``"spf=softfail, dkim not pass"``), or None (passed, or no verdict)."""
    if not headers:
        return None
    got = results(headers[0])
    if "fail" in got.get("dmarc", set()):
        return "dmarc=fail"
    spf = got.get("spf", set()) & {"fail", "softfail"}
    if spf and "pass" not in got.get("dkim", set()):
        return f"spf={sorted(spf)[0]}, dkim not pass"
    return None
