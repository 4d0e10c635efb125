"""The receiving server's verdict on an email reply (bot/mailauth.py): only
its own Authentication-Results count (RFC 8601 section 5), and no verdict is
no trust (issue 22)."""

from __future__ import annotations

import logging

import pytest

from bot.mailauth import verdict

OURS = "mx.alliance.example"
AMARA = "amara.okafor@terrasoil.example"


def _v(*headers: str, trust: bool = False, sender: str = AMARA) -> tuple[str, str]:
    got = verdict(headers, trusted_ids=OURS, from_address=sender, trust_unauthenticated=trust)
    return got.status, got.why


def test_no_header_is_unverified() -> None:
    assert _v()[0] == "unverified"


def test_a_header_from_another_server_is_ignored_and_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.mailauth")
    assert _v("mx.google.com; dmarc=pass header.from=terrasoil.example")[0] == "unverified"
    assert "mx.google.com" in caplog.text
    # the same words written by our server pass
    assert _v(f"{OURS}; dmarc=pass header.from=terrasoil.example")[0] == "pass"


def test_ours_is_found_below_a_sender_written_one() -> None:
    assert _v("mx.google.com; dmarc=fail", f"{OURS}; dkim=pass header.d=terrasoil.example"
              )[0] == "pass"
    assert _v("mx.google.com; dmarc=pass", f"{OURS}; dmarc=fail header.from=terrasoil.example"
              ) == ("fail", "dmarc=fail")


def test_a_pass_must_be_for_the_from_domain() -> None:
    # the attacker's own domain passing SPF and DKIM proves nothing about Amara
    assert _v(f"{OURS}; spf=pass smtp.mailfrom=evil.example; dkim=pass header.d=evil.example; "
              "dmarc=none")[0] == "unverified"
    assert _v(f"{OURS}; spf=pass smtp.mailfrom=bounce@terrasoil.example")[0] == "pass"
    assert _v(f"{OURS}; dkim=pass header.d=terrasoil.example",
              sender="a@mail.terrasoil.example")[0] == "pass"
    assert _v(f"{OURS}; dkim=none; spf=none; dmarc=none")[0] == "unverified"


def test_failures_are_failures_whatever_the_setting() -> None:
    assert _v(f"{OURS}; spf=softfail smtp.mailfrom=x; dkim=none", trust=True)[0] == "fail"
    assert _v(f"{OURS}; dmarc=fail", trust=True)[0] == "fail"
    assert _v(trust=True)[0] == "pass"
    assert _v("mx.google.com; dmarc=pass", trust=True)[0] == "pass"


def test_several_ids_and_case() -> None:
    got = verdict(["MX2.Alliance.Example; dkim=pass"], trusted_ids="mx1.alliance.example, "
                  "mx2.alliance.example", from_address=AMARA)
    assert got.trusted
    # a header authres cannot parse still yields its authserv-id and results
    assert _v(f"{OURS}; dmarc=pass (p=none dis=none) header.from=terrasoil.example; foo")[0] \
        == "pass"
