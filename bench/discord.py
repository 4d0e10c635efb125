"""Benchmark: time from an interaction's arrival to its deferral.

The real discord.py client (adapters/discord/client.py) against the fake
Discord REST API on loopback (tests/adapters/discord/fake_discord.py), with
gateway INTERACTION_CREATE dispatches fed into the client's ConnectionState in
bursts of 50 (50 in flight): stance button presses (DynamicItems) and
``/convene help`` commands, mixed. "Arrival" is when the dispatch is handed to
discord.py's parser on the client's loop; "deferral" is when the fake API
received the interaction callback. The core's work (dispatch on SQLite,
followups) runs during the measurement, on the adapter's worker threads.
Target: p99 <= 50 ms with 50 in flight (Discord's limit is 3 s).

Run: .venv/bin/python bench/discord.py [--interactions N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file is named discord.py: its folder must not shadow the discord package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.common import import_example_roster  # noqa: E402
from bot.compose import build_app  # noqa: E402
from bot.serve import settle_heap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.adapters.discord.fake_discord import CHANNEL, GUILD, FakeDiscord  # noqa: E402
from tests.adapters.discord.harness import Harness, command, custom_ids, press  # noqa: E402

MEMBERS = ["amara.okafor@terrasoil.example", "claire.dubois@inrae-partner.example",
           "mateo.rojas@suelosvivos.example"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interactions", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    fake = FakeDiscord().start()
    settings = Settings(database_url=url, secret_key="bench", mail={"outbox_dir": tmp / "out"},
                        discord={"enabled": True, "bot_token": "bench", "guild_id": GUILD,
                                 "workers": args.workers,
                                 "api_url": fake.base})
    bot = build_app(settings)
    import_example_roster(bot)
    h = Harness(bot, fake)
    users = [f"70000000000000000{i}" for i in range(len(MEMBERS))]
    for email, user in zip(MEMBERS, users, strict=True):
        h.link(email, user)
    h.feed("INTERACTION_CREATE", command(users[0], "poll", action="new",
                                         text="Bench | A proposal. | 2030-01-01 12:00"))
    h.wait(h.followups)
    h.drain()
    h.wait(lambda: fake.find("POST", f"/channels/{CHANNEL}/messages"))
    message = list(fake.messages.values())[-1]
    buttons = [c for c in custom_ids(message) if c.startswith("cv:")]
    fed: dict[str, float] = {}
    done = 0
    settle_heap()  # as convene serve does once it has started (bot/serve.py)
    started = time.monotonic()
    while done < args.interactions:
        burst = []
        for i in range(min(args.concurrency, args.interactions - done)):
            user = users[(done + i) % len(users)]
            burst.append(press(user, message, buttons[(done + i) % len(buttons)])
                         if (done + i) % 4 else command(user, "help"))
        for payload in burst:
            fed[payload["id"]] = time.monotonic()
            h.feed("INTERACTION_CREATE", payload)
        ids = {p["id"] for p in burst}
        h.wait(lambda ids=ids: ids <= {c.path.split("/")[2] for c in
                                       fake.find("POST", "/interactions/")}, timeout=60)
        done += len(burst)
    h.wait(lambda: len(h.followups()) >= args.interactions + 1, timeout=120)
    elapsed = time.monotonic() - started
    acks = {c.path.split("/")[2]: c.at for c in fake.find("POST", "/interactions/")}
    lat = sorted((acks[i] - t) * 1000 for i, t in fed.items())
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    order = list(fed)  # arrival order; the first burst opens the HTTP connections
    warm = sorted((acks[i] - fed[i]) * 1000 for i in order[args.concurrency:]) or lat
    print(f"interactions: {len(lat)}, {args.concurrency} in flight, "
          f"{len(lat) / elapsed:.0f}/s end to end (followups included)")
    print(f"arrival -> deferral: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {lat[-1]:.1f} ms "
          f"(target p99 <= 50 ms): {'OK' if p99 <= 50 else 'MISSED'}")
    first = sorted((acks[i] - fed[i]) * 1000 for i in order[:args.concurrency])
    print(f"  first burst (cold connections): p50 {statistics.median(first):.1f} ms, "
          f"max {first[-1]:.1f} ms; after it: p50 {statistics.median(warm):.1f} ms, "
          f"p99 {warm[min(len(warm) - 1, int(len(warm) * 0.99))]:.1f} ms")
    h.close()
    rest = bot.adapters.get("discord.rest")
    if rest is not None:
        rest.close()
    fake.stop()
    bot.engine.dispose()


if __name__ == "__main__":
    main()
