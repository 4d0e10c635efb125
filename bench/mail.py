"""Outbound mail: where a message's time goes, and 500 of them end to end.

In the same run, alternating, medians of several rounds, each measured with
``build_mime``'s default policy (``bot.mail.MAIL_POLICY``, parsed headers
remembered) and with the baseline ``email.policy.default`` (what it used before):

- building the MIME of 500 poll ballots (``render_email`` of a rich message
  with vote links, an inline chart and an attachment) and of 500 workshop
  invitations (text, HTML and an iMIP part); rendering a ballot, for scale;
- end to end, 500 ballots queued in one unit of work (``render_email`` +
  ``enqueue_email``) and delivered by the outbox worker through the SMTP
  transport to aiosmtpd on loopback: target >= 100 messages/s;
- end to end, ``invites.confirm`` of a workshop with 500 invitees and the
  outbox delivering them (bench/workshops.py's case): target >= 100 messages/s.

    .venv/bin/python bench/mail.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import email.policy
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/workshops.py's helpers

import bot.outbox
from bot.mail import OutgoingEmail, build_mime
from tests.mail_samples import ballot, invitation

N = 500
SENDER = "convene@alliance.example"


@contextmanager
def policy(name: str) -> Iterator[None]:
    """The outbox builds with ``name``: "remembered" (the default) or "stock"."""
    original = bot.outbox.build_mime
    if name == "stock":
        bot.outbox.build_mime = functools.partial(  # type: ignore[assignment]
            build_mime, policy=email.policy.default)
    try:
        yield
    finally:
        bot.outbox.build_mime = original  # type: ignore[assignment]


def per_message_ms(fn: Callable[[], object], n: int) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000 / n


def building(emails: list[OutgoingEmail], name: str) -> float:
    with policy(name):
        return per_message_ms(lambda: [bot.outbox.build_mime(e, sender=SENDER)
                                       for e in emails], len(emails))


def ballots_end_to_end(name: str) -> float:
    """500 ballots rendered and queued, then delivered over SMTP: messages/s."""
    from workshops import _product_bot

    from adapters.email.smtp import SmtpMailTransport
    from bot.outbox import enqueue_email
    from bot.settings import SmtpSettings
    from tests.smtp_helpers import SmtpServer

    server = SmtpServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp, policy(name):
            app = _product_bot(Path(tmp), 0)
            app.mail = SmtpMailTransport(SmtpSettings(host="127.0.0.1", port=server.port,
                                                      security="none"))
            t = time.perf_counter()
            with app.session_factory() as s, s.begin():
                for n in range(N):
                    enqueue_email(session=s, key=f"ballot:{n}", email=ballot(n))
            app.new_worker().drain(max_passes=1000)
            elapsed = time.perf_counter() - t
            app.engine.dispose()
        deadline = time.time() + 10
        while len(server.messages) < N and time.time() < deadline:
            time.sleep(0.02)
        assert len(server.messages) == N, len(server.messages)
        return N / elapsed
    finally:
        server.stop()


def invites_end_to_end(name: str) -> float:
    from workshops import product_invites

    with policy(name):
        _queued, whole, got = product_invites()
    assert got == N, got
    return whole


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    ballots = [ballot(n) for n in range(N)]
    invitations = [invitation(n) for n in range(N)]
    figures: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name in ("stock", "remembered"):  # alternating, same run
            figures.setdefault(("render ballot", name), []).append(
                per_message_ms(lambda: [ballot(n) for n in range(N)], N))
            figures.setdefault(("build ballot", name), []).append(building(ballots, name))
            figures.setdefault(("build invitation", name), []).append(
                building(invitations, name))
            figures.setdefault(("ballots e2e", name), []).append(ballots_end_to_end(name))
            figures.setdefault(("invites e2e", name), []).append(invites_end_to_end(name))
    med = {k: statistics.median(v) for k, v in figures.items()}
    print(f"medians of {args.rounds} rounds, {N} messages each; "
          "baseline = email.policy.default, ours = bot.mail.MAIL_POLICY")
    for what in ("render ballot", "build ballot", "build invitation"):
        print(f"  {what + ' (ms/message)':34} baseline {med[(what, 'stock')]:6.2f}  "
              f"ours {med[(what, 'remembered')]:6.2f}")
    for what, label in (("ballots e2e", "500 ballots: queue + outbox + SMTP"),
                        ("invites e2e", "500 invites: confirm + outbox + SMTP")):
        ours = med[(what, "remembered")]
        print(f"  {label:38} baseline {med[(what, 'stock')]:6.1f} msg/s  ours {ours:6.1f} "
              f"msg/s (target >= 100: {verdict(ours >= 100)})")


if __name__ == "__main__":
    main()
