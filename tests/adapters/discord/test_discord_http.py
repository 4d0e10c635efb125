"""Discord's HTTP interactions endpoint, served by uvicorn on loopback against
the fake Discord REST API: Ed25519 signatures (a key pair made here), PING,
the real payloads turned into the gateway path's core events, deferrals and
followups, forms in pages, autocomplete, and what must be refused."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from nacl.signing import SigningKey
from sqlalchemy import func, select

from adapters.discord.endpoint import INTERACTIONS_PATH, MAX_BODY, InteractionsEndpoint, Verifier
from adapters.discord.inbound import to_event
from adapters.discord.plugin import DiscordPlugin
from bot.app import Bot
from bot.context import Context
from bot.members import link_identity, person_by_email
from bot.types import Actor, Event, Form, FormField, FormSubmission, Message
from bot.web import create_web_app
from storage.models import InboxItem, Proposal, Stance
from tests.adapters.discord.fake_discord import APP_ID, CHANNEL, GUILD, FakeDiscord
from tests.adapters.discord.harness import command, custom_ids, fixture, new_id, press, submit
from tests.conftest import MEMBER, SHARED_FIXTURES, need
from tests.served import Loopback

ALICE = "700000000000000001"  # linked to MEMBER


class Endpoint(Loopback):
    """The bot's web app (with the Discord plugin's routes) on loopback, and
    the signing half of the key pair whose public half is in the settings."""

    def __init__(self, bot: Bot, key: SigningKey, fake: FakeDiscord) -> None:
        self.bot, self.key, self.fake = bot, key, fake
        self.plugin = DiscordPlugin()
        self.routes = self.plugin.web_routes(bot)
        super().__init__(create_web_app(bot, self.routes))
        self.url = self.base + INTERACTIONS_PATH
        self.seen: list[Event] = []

    @property
    def endpoint(self) -> InteractionsEndpoint:
        return self.routes[0].endpoint.__self__  # type: ignore[no-any-return]

    def headers(self, raw: bytes, *, key: SigningKey | None = None,
                timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = (key or self.key).sign(ts.encode() + raw).signature.hex()
        return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": ts,
                "Content-Type": "application/json"}

    def send(self, payload: dict[str, Any] | bytes, **sign: Any) -> httpx.Response:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if isinstance(payload, dict) and payload.get("id"):
            self.fake.interaction_created(str(payload["id"]))
        return self.http.post(self.url, content=raw, headers=self.headers(raw, **sign))

    def watch(self) -> None:
        """Record every event the adapter hands the core."""
        adapter = self.plugin.adapter(self.bot)
        run = adapter.run_core

        def recording(event: Event) -> Any:
            self.seen.append(event)
            return run(event)

        adapter.run_core = recording  # type: ignore[method-assign]

    def followups(self, token: str) -> list[Any]:
        return self.fake.find("POST", f"/webhooks/{APP_ID}/{token}")

    def wait(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if got := predicate():
                return got
            time.sleep(0.01)
        raise AssertionError("timed out waiting")


@pytest.fixture
def served(make_bot: Callable[..., Bot], db_url: str,
           fake_discord: FakeDiscord) -> Iterator[Endpoint]:
    need((SHARED_FIXTURES / "discord").is_dir(), "discord fixtures missing")
    key = SigningKey.generate()
    bot = make_bot(db_url, discord={
        "enabled": True, "bot_token": "test-token", "guild_id": GUILD, "gateway": False,
        "api_url": fake_discord.base, "public_key": key.verify_key.encode().hex()},
        capabilities=["polls"])
    with bot.session_factory() as s, s.begin():
        person = person_by_email(s, MEMBER)
        assert person is not None
        link_identity(s, person=person, actor=Actor("discord", "", ALICE))
    srv = Endpoint(bot, key, fake_discord)
    yield srv
    srv.stop()
    srv.plugin.close_inbox(bot)
    srv.plugin.adapter(bot).close()
    srv.plugin.rest(bot).close()


def _ping() -> dict[str, Any]:
    return {"id": new_id(), "application_id": APP_ID, "type": 1, "token": "tok-ping",
            "version": 1}


def test_ping_is_answered_pong_and_bad_signatures_are_refused(served: Endpoint) -> None:
    ok = served.send(_ping())
    assert ok.status_code == 200 and ok.json() == {"type": 1}
    raw = json.dumps(command(ALICE, "help")).encode()
    now = int(time.time())
    refused = {
        "forged": served.headers(raw, key=SigningKey.generate()),
        "old": served.headers(raw, timestamp=now - 600),
        "future": served.headers(raw, timestamp=now + 600),
        "no signature": {k: v for k, v in served.headers(raw).items()
                         if k != "X-Signature-Ed25519"},
        "no timestamp": {k: v for k, v in served.headers(raw).items()
                         if k != "X-Signature-Timestamp"},
        "short signature": {**served.headers(raw), "X-Signature-Ed25519": "ab" * 32},
        "signature not hex": {**served.headers(raw), "X-Signature-Ed25519": "zz" * 64},
        "timestamp with a space": {**served.headers(raw),
                                   "X-Signature-Timestamp": f"{now} 1"},
        "timestamp not digits": {**served.headers(raw), "X-Signature-Timestamp": f"+{now}"},
    }
    for name, headers in refused.items():
        resp = served.http.post(served.url, content=raw, headers=headers)
        assert resp.status_code == 401, name
    # A body altered after signing: the same headers no longer fit it.
    headers = served.headers(raw)
    altered = raw.replace(b'"help"', b'"members"')
    assert altered != raw
    assert served.http.post(served.url, content=altered, headers=headers).status_code == 401
    assert served.http.post(served.url, content=raw, headers=headers).status_code == 200
    # Signed, but the timestamp is the signed one with another body's signature.
    other = served.headers(json.dumps(_ping()).encode(), timestamp=int(headers[
        "X-Signature-Timestamp"]))
    assert served.http.post(served.url, content=raw, headers={
        **headers, "X-Signature-Ed25519": other["X-Signature-Ed25519"]}).status_code == 401
    # Only the one well-signed request did anything: its followup, nothing else.
    served.wait(lambda: served.fake.find("POST", f"/webhooks/{APP_ID}/"))
    time.sleep(0.3)
    assert len(served.fake.find("POST", f"/webhooks/{APP_ID}/")) == 1


def test_huge_bodies_and_malformed_bodies(served: Endpoint) -> None:
    big = b'{"type": 1, "pad": "' + b"x" * MAX_BODY + b'"}'
    assert served.send(big).status_code == 413  # by Content-Length

    def stream() -> Iterator[bytes]:
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"x" * 65536

    headers = served.headers(b"")
    resp = served.http.post(served.url, content=stream(), headers=headers)  # chunked
    assert resp.status_code == 413
    # Well signed, but not what Discord sends: raw control characters inside a
    # JSON string, bytes that are not UTF-8, an array, an unknown type.
    raw_control = b'{"type": 2, "id": "1", "token": "t", "data": {"name": "con\x00\x1bvene"}}'
    for body in (raw_control, b'{"type": 2, "data": "\xff\xfe"}', b"[1, 2]",
                 json.dumps({"type": 99, "id": "1", "token": "t"}).encode(),
                 json.dumps({"type": 2, "id": "../1", "token": "t"}).encode()):
        assert served.send(body).status_code == 400, body


def test_control_characters_in_values_stay_text(served: Endpoint) -> None:
    """Escaped control characters are valid JSON: they reach the core as text
    (the core decides), and the person is answered as usual."""
    served.watch()
    payload = command(ALICE, "do", text="poll show 1\u0000\u001b[2J\u202e")
    resp = served.send(payload)
    assert resp.status_code == 200 and resp.json()["type"] == 5
    served.wait(lambda: served.followups(payload["token"]))
    assert [e.event_id for e in served.seen] == [f"i:{payload['id']}"]


def test_real_payloads_become_the_gateway_paths_events(served: Endpoint) -> None:
    """Each real fixture, sent signed, gives the event inbound.to_event gives
    for the same payload (the gateway path's conversion), or none when the
    component is not Convene's."""
    served.watch()
    poll = command(ALICE, "do", text="poll new Soil charter | We adopt it. | 2030-01-01 12:00")
    assert served.send(poll).json() == {"type": 5, "data": {"flags": 64}}
    [posted] = served.wait(lambda: served.followups(poll["token"]))
    assert posted.body["flags"] == 64 and "is open for stances" in json.dumps(posted.body)
    served.bot.new_worker().drain()
    message = served.fake.messages[served.wait(lambda: served.fake.find(
        "POST", f"/channels/{CHANNEL}/messages"))[-1] and list(served.fake.messages)[-1]]
    block = next(c for c in custom_ids(message) if c.endswith(":block"))
    button = press(ALICE, message, block)
    assert served.send(button).json() == {"type": 6}  # deferred update
    [prompt] = served.wait(lambda: served.followups(button["token"]))
    opener = next(c for c in custom_ids(prompt.body) if c.startswith("cvo:"))
    opened = served.send(press(ALICE, {"id": new_id(), "components": prompt.body["components"]},
                               opener)).json()
    assert opened["type"] == 9  # the modal is the HTTP response itself
    assert opened["data"]["custom_id"] == "cvf:poll.reason:1:1:1:block"
    field = opened["data"]["components"][0]["components"][0]["custom_id"]
    reason = submit(ALICE, opened["data"]["custom_id"], {field: "Too costly"})
    assert served.send(reason).json() == {"type": 5, "data": {"flags": 64}}
    served.wait(lambda: served.followups(reason["token"]))
    assert served.seen == [to_event(p) for p in (poll, button, reason)]
    with served.bot.session_factory() as s:
        stance = s.scalars(select(Stance)).one()
    assert (stance.stance, stance.reason, stance.channel) == ("block", "Too costly", "discord")

    # The raw fixtures (other bots' custom ids, another guild's command): not for
    # the core; Discord still gets its first response.
    button_fixture = dict(fixture("disgo_button_component.json"), guild_id=GUILD)
    select_fixture = dict(fixture("kord_selectmenu.json"), guild_id=GUILD)
    assert served.send(button_fixture).json() == {"type": 6}
    assert served.send(select_fixture).json() == {"type": 6}
    assert to_event(button_fixture) is None and to_event(select_fixture) is None
    root = fixture("kord_rootcommand.json")  # /testsubcommands in guild 556525343595298817
    # (another guild: told so before any flow, issue 22)
    answer = served.send(root).json()
    assert answer["type"] == 4 and "does not serve this server" in json.dumps(answer)
    time.sleep(0.3)
    assert len(served.seen) == 3

    # A captured request sent again within the window acts once.
    assert served.send(reason).status_code == 200
    served.wait(lambda: len(served.followups(reason["token"])) == 2)
    with served.bot.session_factory() as s:
        assert s.scalar(select(func.count(Stance.id))) == 1


def test_a_guild_not_served_is_told_so_first(served: Endpoint) -> None:
    served.watch()
    payload = command(ALICE, "help")
    payload["guild_id"] = "556525343595298817"
    answer = served.send(payload).json()
    assert answer["type"] == 4 and answer["data"]["flags"] == 64
    assert "does not serve this server" in json.dumps(answer["data"])
    assert served.seen == []


def _survey(bot: Bot, got: list[FormSubmission]) -> Form:
    """A core command answering with a form of seven fields, and its form route."""
    form = Form("survey", "Workshop survey", "Send", tuple(
        FormField(f"q{i}", f"Question {i}", required=i < 6) for i in range(1, 8)),
        context="ctx-7")

    def ask(ctx: Context) -> Message:
        return Message("Please answer", form=form)

    def answered(ctx: Context) -> Message:
        event = ctx.event
        assert isinstance(event, FormSubmission)
        # Counted once committed: the adapter's check of the whole submission
        # (Bot.check_form) runs this handler in a unit of work it rolls back.
        ctx.after_commit(lambda: got.append(event))
        return Message("Thanks")

    bot.registry.route("command", "survey", ask, capability="workshop.attend")
    bot.registry.route("form", "survey", answered, capability="workshop.attend")
    return form


def test_a_form_of_seven_fields_is_two_modals_and_one_submission(served: Endpoint) -> None:
    got: list[FormSubmission] = []
    _survey(served.bot, got)
    ask = command(ALICE, "do", text="survey")
    assert served.send(ask).json()["type"] == 5
    [offer] = served.wait(lambda: served.followups(ask["token"]))
    opener = next(c for c in custom_ids(offer.body) if c.startswith("cvo:"))
    message = {"id": new_id(), "components": offer.body["components"]}

    first = served.send(press(ALICE, message, opener)).json()
    assert first["type"] == 9
    page1 = first["data"]
    assert page1["title"] == "Workshop survey (1/2)" and page1["custom_id"].startswith("cvk:")
    assert [r["components"][0]["custom_id"] for r in page1["components"]] == \
        ["q1", "q2", "q3", "q4", "q5"]
    sent1 = submit(ALICE, page1["custom_id"], {f"q{i}": f"a{i}" for i in range(1, 6)})
    assert served.send(sent1).json()["type"] == 5
    [more] = served.wait(lambda: served.followups(sent1["token"]))
    assert "Part 1 of 2 saved" in json.dumps(more.body) and got == []
    assert custom_ids(more.body) == [opener]  # the same form, its next page
    # The first page submitted again (an old modal) changes nothing and says where it is.
    stale = submit(ALICE, page1["custom_id"], {f"q{i}": "other" for i in range(1, 6)})
    assert served.send(stale).json()["type"] == 5
    [same] = served.wait(lambda: served.followups(stale["token"]))
    assert "Part 1 of 2 saved" in json.dumps(same.body) and got == []

    second = served.send(press(ALICE, {"id": new_id(), "components": more.body["components"]},
                               opener)).json()
    assert second["type"] == 9
    page2 = second["data"]
    assert page2["title"] == "Workshop survey (2/2)"
    assert page2["custom_id"] == page1["custom_id"] + ":1"
    assert [r["components"][0]["custom_id"] for r in page2["components"]] == ["q6", "q7"]
    sent2 = submit(ALICE, page2["custom_id"], {"q6": "a6", "q7": ""})
    assert served.send(sent2).json()["type"] == 5
    served.wait(lambda: got)
    [submission] = got
    assert submission.form_id == "survey" and submission.context == "ctx-7"
    assert dict(submission.values) == {**{f"q{i}": f"a{i}" for i in range(1, 7)}, "q7": ""}
    [thanks] = served.wait(lambda: served.followups(sent2["token"]))
    assert "Thanks" in json.dumps(thanks.body)


def test_a_slow_first_answer_is_deferred_then_followed_up(served: Endpoint) -> None:
    adapter = served.plugin.adapter(served.bot)
    translator_for = adapter.translator_for

    async def slow(turn: Any) -> Any:
        import asyncio

        await asyncio.sleep(0.5)
        return await translator_for(turn)

    adapter.translator_for = slow  # type: ignore[method-assign]
    served.endpoint.answer_within = 0.1
    expired = press(ALICE, {"id": new_id()}, "cvo:no-such-token")
    assert served.send(expired).json() == {"type": 6}
    [late] = served.wait(lambda: served.followups(expired["token"]))
    assert late.body["flags"] == 64 and "This form has expired" in json.dumps(late.body)
    # In time, the same answer is the first response itself.
    served.endpoint.answer_within = 2.0
    adapter.translator_for = translator_for  # type: ignore[method-assign]
    quick = press(ALICE, {"id": new_id()}, "cvo:no-such-token")
    answer = served.send(quick).json()
    assert answer["type"] == 4 and "This form has expired" in json.dumps(answer["data"])


def test_autocomplete_uses_the_core_completers(served: Endpoint) -> None:
    payload = copy.deepcopy(command(ALICE, "poll", action="n"))
    payload["type"] = 4
    payload["data"]["options"][0]["options"][0]["focused"] = True
    answer = served.send(payload).json()
    assert answer["type"] == 8
    assert {"name": "new", "value": "new"} in answer["data"]["choices"]


def test_a_bad_public_key_is_refused_at_start() -> None:
    with pytest.raises(ValueError):
        Verifier("00" * 31)
    key = SigningKey.generate()
    verifier = Verifier(key.verify_key.encode().hex(), clock=lambda: 1_000_000.0)
    signed = key.sign(b"1000000" + b"{}").signature.hex()
    headers = {"x-signature-ed25519": signed, "x-signature-timestamp": "1000000"}
    assert verifier.refusal(headers, b"{}") is None
    assert verifier.refusal({**headers, "x-signature-timestamp": "1000061"}, b"{}") == \
        "timestamp outside the window"
    # Control characters and non-ASCII digits never count as a timestamp or signature
    # (an HTTP server would refuse most of them before the app; this check does not rely on it).
    for ts in ("1000000\x00", "\t1000000", "1000000\n", "١٠٠٠٠٠٠", "1_000_000", "-1000000"):
        assert verifier.refusal({**headers, "x-signature-timestamp": ts}, b"{}") == \
            "signature headers malformed", ts
    assert verifier.refusal({**headers, "x-signature-ed25519": signed[:-1] + "\x00"},
                            b"{}") == "signature headers malformed"
    assert verifier.refusal(headers, b"{}\x00") == "bad signature"


FOREIGN = "556525343595298817"


def _link_emails(bot: Bot) -> int:
    from storage.models import OutboxMessage

    with bot.session_factory() as s:
        return s.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.key.like("discord-link:%"))) or 0


def test_link_and_autocomplete_from_a_guild_not_served(served: Endpoint) -> None:
    """Issue 22: /convene link from a guild not allowed emailed a code (the guild
    check ran after the link flow); its autocomplete returned proposal titles."""
    link = command("700000000000000099", "link", email=MEMBER)
    link["guild_id"] = FOREIGN
    answer = served.send(link).json()
    assert answer["type"] == 4 and "does not serve this server" in json.dumps(answer)
    time.sleep(0.3)
    assert _link_emails(served.bot) == 0
    poll = command(ALICE, "do", text="poll new Soil charter | We adopt it. | 2030-01-01 12:00")
    served.send(poll)
    served.wait(lambda: served.followups(poll["token"]))
    for option, typed in (("id", ""), ("action", "n")):
        payload = copy.deepcopy(command(ALICE, "poll", **{option: typed}))
        payload["type"] = 4
        payload["data"]["options"][0]["options"][0]["focused"] = True
        assert served.send(payload).json()["data"]["choices"], option  # served guild
        payload = copy.deepcopy(payload)
        payload.update(id=new_id(), guild_id=FOREIGN)
        assert served.send(payload).json() == {"type": 8, "data": {"choices": []}}


def test_the_same_link_request_twice_emails_one_code(served: Endpoint) -> None:
    link = command("700000000000000098", "link", email=MEMBER)
    first = served.send(link)
    assert first.status_code == 200
    served.wait(lambda: served.followups(link["token"]))
    again = served.send(link)  # the same signed request, delivered again
    assert again.status_code == 200
    time.sleep(0.5)
    assert _link_emails(served.bot) == 1


def test_any_malformed_body_is_400(served: Endpoint) -> None:
    """Issue 22: a signed body nested 100,000 deep gave 500 (RecursionError)."""
    deep = b'{"type": 2, "id": "1", "token": "t", "data": ' + b"[" * 100_000 + \
        b"]" * 100_000 + b"}"
    assert len(deep) < MAX_BODY
    assert served.send(deep).status_code == 400
    nested = command(ALICE, "help")
    inner: dict[str, Any] = nested["data"]
    for _ in range(60):  # within the parser's stack, deeper than any interaction
        inner["options"] = [{"type": 1, "name": "x"}]
        inner = inner["options"][0]
    assert served.send(nested).status_code == 400
    good = command(ALICE, "help")
    for change in ({"id": 12345}, {"data": "convene"}, {"guild_id": 808638139785936919},
                   {"member": ["x"]}, {"member": {"user": {"id": "me"}}},
                   {"locale": 7}, {"channel_id": "../x"}, {"token": ""}):
        bad = {**copy.deepcopy(good), **change, "id": change.get("id", new_id())}
        assert served.send(bad).status_code == 400, change
    for change in ({"options": "help"}, {"options": [["help"]]}, {"name": 3},
                   {"custom_id": {}}, {"values": [1]}):
        bad = copy.deepcopy(good)
        bad["id"] = new_id()
        bad["data"] = {**bad["data"], **change}
        assert served.send(bad).status_code == 400, change
    assert served.send(command(ALICE, "help")).status_code == 200


def test_gateway_autocomplete_checks_the_guild_too(served: Endpoint) -> None:
    """The gateway's command tree asks the same function with the interaction's guild."""
    import asyncio

    from adapters.discord.commands import choices

    adapter = served.plugin.adapter(served.bot)
    got = asyncio.run(choices(adapter, guild_id=FOREIGN, user_id=ALICE, word="poll",
                              option="action", current="n"))
    assert got == []
    got = asyncio.run(choices(adapter, guild_id=GUILD, user_id=ALICE, word="poll",
                              option="action", current="n"))
    assert ("new", "new") in got


def _inbox_rows(bot: Bot) -> list[InboxItem]:
    with bot.session_factory() as s:
        rows = list(s.scalars(select(InboxItem).order_by(InboxItem.id)))
        s.expunge_all()
        return rows


def test_each_interaction_is_in_the_inbox_before_it_is_answered(served: Endpoint) -> None:
    """The shared inbox records the interaction (platform ``discord``) before
    the first response leaves, and marks it done once its flow has ended; a
    replay of the same interaction adds no row."""
    payload = command(ALICE, "help")
    assert served.send(payload).status_code == 200
    [row] = _inbox_rows(served.bot)
    assert (row.platform, row.key, row.kind) == ("discord", f"discord:{payload['id']}",
                                                 "interaction")
    assert row.payload["body"]["token"] == payload["token"]
    assert row.owner == served.bot.instance_id
    served.wait(lambda: _inbox_rows(served.bot)[0].status == "done")
    raw = json.dumps(payload).encode()
    assert served.http.post(served.url, content=raw, headers=served.headers(raw)) \
        .status_code == 200
    assert len(_inbox_rows(served.bot)) == 1


def test_an_interaction_a_crash_interrupted_is_worked_from_the_inbox(served: Endpoint) -> None:
    """A row a killed process left claimed (lease run out) is swept and its
    flow run again: the first response through the REST callback, the reply
    as a followup, the core acting once; the row ends done."""
    from datetime import timedelta

    from bot.queue import INBOX, LeasedQueue

    payload = command(ALICE, "do", text="poll new Soil charter | We adopt it. | 2030-01-01 12:00")
    served.fake.interaction_created(str(payload["id"]))
    dead = LeasedQueue(INBOX, instance="dead-replica", lease=timedelta(seconds=-1),
                       fixed={"platform": "discord"})
    with served.bot.session_factory() as s, s.begin():
        [left] = dead.insert_claimed(s, [(f"discord:{payload['id']}", "interaction",
                                          {"body": payload})], dead.token())
    inbox = served.plugin.inbox(served.bot)
    assert inbox.sweep() == 1 and inbox.work_queued() == 1
    [callback] = served.fake.find("POST", f"/interactions/{payload['id']}/")
    assert callback.body == {"type": 5, "data": {"flags": 64}}
    [posted] = served.followups(payload["token"])
    assert "is open for stances" in json.dumps(posted.body)
    with served.bot.session_factory() as s:
        assert s.scalar(select(func.count(Proposal.id))) == 1
    served.wait(lambda: _inbox_rows(served.bot)[0].status == "done")
    assert _inbox_rows(served.bot)[0].id == left.id
    # Nothing left to take: a second sweep acts on nothing.
    assert inbox.sweep() == 0
    with served.bot.session_factory() as s:
        assert s.scalar(select(func.count(Proposal.id))) == 1
