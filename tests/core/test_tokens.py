"""bot.tokens: signed, expiring, purpose-bound link tokens."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from bot import tokens
from bot.tokens import LinkRefused

KEY = "k" * 48
PURPOSE = "convene.test.link.v1"
NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


def read(data: dict[str, Any]) -> tuple[int, int]:
    return int(data["p"]), int(data["o"])


def refused(token: str, *, key: str = KEY, purpose: str = PURPOSE) -> str:
    with pytest.raises(LinkRefused) as caught:
        tokens.verify(token, key=key, purpose=purpose, read=read)
    return caught.value.code


def test_a_token_reads_back_with_its_expiry() -> None:
    t = tokens.mint(key=KEY, purpose=PURPOSE, payload={"p": 7, "o": 3},
                    expires_at=NOW + timedelta(hours=1))
    found = tokens.verify(t, key=KEY, purpose=PURPOSE, read=read)
    assert found.value == (7, 3)
    assert found.expires_at == NOW + timedelta(hours=1)
    assert not found.expired(NOW) and found.expired(NOW + timedelta(hours=1))


def test_a_token_without_expiry_never_expires() -> None:
    t = tokens.mint(key=KEY, purpose=PURPOSE, payload={"p": 7, "o": 3})
    found = tokens.verify(t, key=KEY, purpose=PURPOSE, read=read)
    assert found.expires_at is None and not found.expired(NOW + timedelta(days=10_000))


def test_a_forged_token_is_refused() -> None:
    other = tokens.mint(key="x" * 48, purpose=PURPOSE, payload={"p": 7, "o": 3},
                        expires_at=NOW + timedelta(hours=1))
    assert refused(other) == "tampered"
    # An unsigned payload of the right shape, with a made-up signature.
    body = base64.urlsafe_b64encode(json.dumps({"p": 1, "o": 3}).encode()).rstrip(b"=")
    assert refused(body.decode() + ".c2lnbmF0dXJl") == "tampered"


def test_a_token_for_another_purpose_is_refused() -> None:
    t = tokens.mint(key=KEY, purpose="convene.test.other.v1", payload={"p": 7, "o": 3},
                    expires_at=NOW + timedelta(hours=1))
    assert refused(t) == "tampered"
    assert tokens.verify(t, key=KEY, purpose="convene.test.other.v1", read=read).value == (7, 3)


@pytest.mark.parametrize("edit", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature changed
    lambda t: t[:len(t) // 2],  # cut short
    lambda t: "x" + t,  # the payload changed
    lambda t: t.replace(".", "", 1),  # the separator lost
    lambda t: "",
])
def test_a_tampered_token_is_refused(edit: Any) -> None:
    t = tokens.mint(key=KEY, purpose=PURPOSE, payload={"p": 7, "o": 3},
                    expires_at=NOW + timedelta(hours=1))
    assert refused(edit(t)) == "tampered"


def test_a_longer_expiry_cannot_be_written_into_a_token() -> None:
    t = tokens.mint(key=KEY, purpose=PURPOSE, payload={"p": 7, "o": 3},
                    expires_at=NOW - timedelta(seconds=1))
    assert tokens.verify(t, key=KEY, purpose=PURPOSE, read=read).expired(NOW)
    payload, _, signature = t.rpartition(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["exp"] += 86_400
    edited = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    assert refused(f"{edited}.{signature}") == "tampered"


def test_a_signed_payload_of_the_wrong_shape_is_refused() -> None:
    for payload in ({"p": 7}, {"p": "seven", "o": 3}, [7, 3], "7:3", {"p": 7, "o": 3,
                                                                        "exp": "soon"}):
        t = URLSafeSerializer(KEY, salt=PURPOSE).dumps(payload)
        assert refused(t) == "tampered", payload


def test_a_timed_vote_link_of_before_still_reads() -> None:
    t = URLSafeTimedSerializer(KEY, salt=PURPOSE).dumps(
        {"p": 7, "o": 3, "exp": int((NOW + timedelta(hours=1)).timestamp())})
    found = tokens.verify(t, key=KEY, purpose=PURPOSE, read=read)
    assert found.value == (7, 3) and found.expires_at == NOW + timedelta(hours=1)
    assert refused(t, purpose="convene.test.other.v1") == "tampered"
    assert refused(t, key="x" * 48) == "tampered"


def test_mint_refuses_a_naive_expiry_and_a_payload_holding_exp() -> None:
    with pytest.raises(ValueError, match="aware"):
        tokens.mint(key=KEY, purpose=PURPOSE, payload={"p": 1},
                    expires_at=datetime(2027, 1, 1))
    with pytest.raises(ValueError, match="reserved"):
        tokens.mint(key=KEY, purpose=PURPOSE, payload={"exp": 1})


def test_the_digest_stands_for_a_token_without_showing_it() -> None:
    t = tokens.mint(key=KEY, purpose=PURPOSE, payload={"p": 7, "o": 3})
    assert tokens.digest(t) == tokens.digest(t) and len(tokens.digest(t)) == 40
    assert t not in tokens.digest(t) and tokens.digest(t) != tokens.digest(t + "x")
