"""Whether the receiving mail server vouched for a message's sender, from its
``Authentication-Results`` headers (RFC 8601).

Only headers whose authserv-id is the receiving server's (``[mail]
authserv_id``, one or more names) are read: anyone can write an
``Authentication-Results: mx.google.com; dmarc=pass`` into the message they
send, and RFC 8601 section 5 says a reader must ignore headers from an
authserv-id it does not know. Those are logged and skipped. Of the trusted
headers, the topmost (the last one our server added) is the verdict.

The verdict *fails closed*: a message is acted on only when the trusted header
says the From address was authenticated: DMARC passed, or DKIM passed (for the
From's domain or a parent of it, when the header names the signing domain),
or SPF passed (for the From's domain, when the header names it) and nothing
failed. No trusted header, or one with no such pass, is *unverified*.
``[mail] trust_unauthenticated`` (off by default) is for a deployment whose
server adds no header: then a missing verdict passes, but a trusted failure
still refuses. Parsing uses the ``authres`` library, with a small
``method=result`` reader for headers it refuses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import authres

from bot.settings import MailSettings

log = logging.getLogger(__name__)

_PAIR = re.compile(r"(?:^|[;\s])([a-z0-9-]+)\s*=\s*([a-z]+)((?:\s+[a-z]+\.[a-z-]+=\S+)*)",
                   re.I)
_PROP = re.compile(r"([a-z]+\.[a-z-]+)=(\S+)", re.I)
_SERV = re.compile(r"^\s*([^\s;]+)")


@dataclass(frozen=True, slots=True)
class Header:
    """One ``Authentication-Results`` value: its ``authserv_id`` (lower case)
    and ``results``: method -> list of (result, {property: value}), all lower case."""

    authserv_id: str
    results: dict[str, list[tuple[str, dict[str, str]]]] = field(default_factory=dict)

    def got(self, method: str) -> set[str]:
        """The results given for ``method`` (``{"pass"}``)."""
        return {r for r, _ in self.results.get(method, [])}


def parse(header: str) -> Header:
    """One header value (``"mx; spf=fail smtp.mailfrom=a.example; dmarc=fail"``)."""
    text = " ".join(header.split())
    results: dict[str, list[tuple[str, dict[str, str]]]] = {}
    try:
        parsed = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + text)
        serv = str(parsed.authserv_id or "")
        for r in parsed.results:
            props = {f"{p.type}.{p.name}".lower(): str(p.value).lower() for p in r.properties}
            results.setdefault(str(r.method).lower(), []).append((str(r.result).lower(), props))
    except Exception:  # noqa: BLE001  (authres raises its own and ValueError/IndexError)
        m = _SERV.match(text)
        serv = m.group(1) if m else ""
        body = text.split(";", 1)[1] if ";" in text else ""
        for method, result, props in _PAIR.findall(body):
            if "." in method:
                continue  # a property like smtp.mailfrom=, not a method
            found = {k.lower(): v.lower().strip(";") for k, v in _PROP.findall(props)}
            results.setdefault(method.lower(), []).append((result.lower(), found))
    return Header(serv.lower().rstrip(";"), results)


Status = Literal["pass", "fail", "unverified"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """``status``: ``pass`` (act on it), ``fail`` (the server says forged) or
    ``unverified`` (no trusted verdict); ``why``: a short technical reason for
    the log and the answer (``"dmarc=fail"``, ``"no verdict from mx.example"``)."""

    status: Status
    why: str

    @property
    def trusted(self) -> bool:
        """Whether the reply may be acted on."""
        return self.status == "pass"


def _domain(value: str) -> str:
    return value.rsplit("@", 1)[-1].strip().strip("<>").lower()


def _aligned(signer: str | None, from_domain: str) -> bool:
    """Relaxed alignment: ``signer`` is the From's domain or a parent of it
    (a header that names no domain is taken as our server wrote it)."""
    if not signer or not from_domain:
        return True
    d = _domain(signer)
    return from_domain == d or from_domain.endswith("." + d)


def _passes(h: Header, method: str, prop: str, from_domain: str) -> bool:
    return any(result == "pass" and _aligned(props.get(prop), from_domain)
               for result, props in h.results.get(method, []))


def authserv_ids(setting: str | Iterable[str]) -> frozenset[str]:
    """The trusted authserv-ids from the setting (names separated by commas
    or spaces, or a list), lower case."""
    items = re.split(r"[,\s]+", setting) if isinstance(setting, str) else list(setting)
    return frozenset(i.strip().lower() for i in items if i.strip())


def verdict(headers: Sequence[str], *, trusted_ids: str | Iterable[str],
            from_address: str = "", trust_unauthenticated: bool = False) -> Verdict:
    """The receiving server's verdict on a message whose ``headers`` are its
    ``Authentication-Results`` values, top first; ``trusted_ids``: the
    receiving server's authserv-id(s) (``[mail] authserv_id``); ``from_address``:
    the From address the verdict must vouch for. See the module doc."""
    ids = authserv_ids(trusted_ids)
    mine: Header | None = None
    for value in headers:
        h = parse(value)
        if h.authserv_id in ids:
            mine = h
            break
        log.info("ignoring an Authentication-Results header from %r (not our server %s)",
                 h.authserv_id[:80], ", ".join(sorted(ids)) or "(none set)")
    if mine is None:
        if trust_unauthenticated:
            return Verdict("pass", "no verdict (trusted by setting)")
        return Verdict("unverified", "no verdict from " + (", ".join(sorted(ids)) or
                                                           "the receiving server"))
    why = _failure(mine)
    if why is not None:
        return Verdict("fail", why)
    dom = _domain(from_address) if from_address else ""
    if _passes(mine, "dmarc", "header.from", dom) or _passes(mine, "dkim", "header.d", dom) \
            or _passes(mine, "spf", "smtp.mailfrom", dom):
        return Verdict("pass", "")
    if trust_unauthenticated and not any(mine.got(m) - {"none"} for m in ("dmarc", "dkim",
                                                                           "spf")):
        return Verdict("pass", "no verdict (trusted by setting)")
    return Verdict("unverified", "no pass for " + (dom or "the sender"))


def _failure(h: Header) -> str | None:
    if "fail" in h.got("dmarc"):
        return "dmarc=fail"
    spf = h.got("spf") & {"fail", "softfail"}
    if spf and "pass" not in h.got("dkim"):
        return f"spf={sorted(spf)[0]}, dkim not pass"
    return None


def results(header: str) -> dict[str, set[str]]:
    """``method`` -> the results given for it (lower case) in one header value
    (``"mx; spf=fail; dkim=none; dmarc=fail"`` -> ``{"spf": {"fail"}, ...}``)."""
    h = parse(header)
    return {m: h.got(m) for m in h.results}


def check(*, headers: Sequence[str], from_address: str, settings: MailSettings) -> Verdict:
    """:func:`verdict` with ``[mail] authserv_id`` and ``trust_unauthenticated``;
    logs what was refused."""
    found = verdict(headers, trusted_ids=settings.authserv_id, from_address=from_address,
                    trust_unauthenticated=settings.trust_unauthenticated)
    if not found.trusted:
        log.warning("email reply claiming to be from %s not acted on: %s", from_address,
                    found.why)
    return found
