"""The SMTP transport against a real aiosmtpd server: authentication and batches."""

from __future__ import annotations

from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from adapters.email.smtp import SmtpMailTransport
from bot.mail import OutgoingEmail, build_mime
from bot.settings import SmtpSettings
from tests.smtp_helpers import _Collector, free_port


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"convene", b"s3cret")
    return AuthResult(success=ok)


def _mime(to: str) -> Any:
    return build_mime(OutgoingEmail(to=(to,), subject="Hi", text="plain", html="<b>html</b>"),
                      sender="convene@alliance.example", sender_name="Convene")


def test_authenticated_batch_over_one_connection() -> None:
    handler = _Collector()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port, authenticator=_auth,
                     auth_require_tls=False)
    ctl.start()
    try:
        good = SmtpMailTransport(SmtpSettings(host="127.0.0.1", port=port, security="none",
                                              username="convene", password="s3cret"))
        assert good.send_batch([_mime("a@x.example"), _mime("b@x.example")]) == [None, None]
        bad = SmtpMailTransport(SmtpSettings(host="127.0.0.1", port=port, security="none",
                                             username="convene", password="wrong", timeout=3))
        errors = bad.send_batch([_mime("c@x.example")])
        assert errors[0] is not None
        assert "wrong" not in repr(errors[0])
    finally:
        ctl.stop()
    got = [m for _, m in handler.messages]
    assert [m["To"] for m in got] == ["a@x.example", "b@x.example"]
    assert got[0].get_content_type() == "multipart/alternative"
    assert got[0]["From"] == "Convene <convene@alliance.example>"


def test_server_down_fails_every_message_without_raising() -> None:
    t = SmtpMailTransport(SmtpSettings(host="127.0.0.1", port=free_port(), security="none",
                                       timeout=2))
    errs = t.send_batch([_mime("a@x.example"), _mime("b@x.example")])
    assert len(errs) == 2 and all(isinstance(e, OSError) or e is not None for e in errs)
