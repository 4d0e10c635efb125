"""Press-review benchmark: prints figures and whether each target is met.

Inputs are generated at run time into a temp dir from ../shared/fixtures/feeds
(200 RSS files of 100 entries, distinct ids, URLs, perturbed titles and
summaries). Targets: (full pipeline) / (feedparser alone, same inputs, same
run) <= 1.5; peak RSS <= 400 MB; cluster time at 40k / at 20k entries <= 2.3.
The full pipeline is: read files, parse, normalise (nh3, language), cluster,
classify, rank, select and render (database writes not included).
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT.parent / "shared" / "fixtures" / "feeds"

from digests.classify import Classifier  # noqa: E402
from digests.cluster import cluster  # noqa: E402
from digests.fetch import fetch_sources  # noqa: E402
from digests.pipeline import candidates, gather  # noqa: E402
from digests.rank import select  # noqa: E402
from digests.render import ItemView, SourceView, render_digest  # noqa: E402
from digests.sources import FeedSource  # noqa: E402
from digests.taxonomy import load_taxonomy  # noqa: E402
from storage.base import utcnow  # noqa: E402

SOURCES, PER_SOURCE = 200, 100
WORDS = ("soil carbon market credit farmers biodiversity study investment drought water "
         "policy yield methodology integrity finance community research model").split()


def _perturb(rng: random.Random, text: str, share: float) -> str:
    words = text.split()
    for k in range(len(words)):
        if rng.random() < share:
            words[k] = rng.choice(WORDS) + str(rng.randint(0, 999))
    return " ".join(words)


def _best_of(runs: int, work: Callable[[], object]) -> float:
    """The shortest of ``runs`` timings of ``work()`` in seconds (less noise
    from other processes than one run)."""
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - t)
    return best


def generate(folder: Path) -> list[Path]:
    """Write the 200 input files; returns their paths."""
    base = []
    for f in sorted(FIXTURES.iterdir()):
        d = feedparser.parse(f.read_bytes())
        for e in d.entries:
            if e.get("title"):
                base.append((str(e.title), str(e.get("summary", ""))[:1500],
                             e.get("published", "Mon, 16 Nov 2026 08:00:00 GMT")))
    rng = random.Random(47)
    paths = []
    for s in range(SOURCES):
        items = []
        for j in range(PER_SOURCE):
            title, summary, date = base[(s * PER_SOURCE + j) % len(base)]
            items.append(
                f"<item><title>{escape(_perturb(rng, title, 0.3))} {s}-{j}</title>"
                f"<link>https://src{s}.example/a/{j}?utm_source=rss</link>"
                f"<guid>src{s}-{j}</guid><pubDate>{escape(date)}</pubDate>"
                f"<description>{escape(_perturb(rng, summary, 0.35))}</description></item>")
        p = folder / f"source{s:03d}.xml"
        p.write_text('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                     f"<title>Source {s}</title><link>https://src{s}.example/</link>"
                     + "".join(items) + "</channel></rss>", encoding="utf-8")
        paths.append(p)
    return paths


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp))
        t = time.perf_counter()
        n_parsed = sum(len(feedparser.parse(p.read_bytes()).entries) for p in paths)
        parse_s = time.perf_counter() - t
        # For information: feedparser as the pipeline calls it (no sanitising or
        # URI resolution: nh3 strips the markup), to show what our stages add.
        t = time.perf_counter()
        for p in paths:
            feedparser.parse(p.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
        lean_s = time.perf_counter() - t

        t = time.perf_counter()
        results = fetch_sources([FeedSource(str(p)) for p in paths], concurrency=8)
        got = gather(results)
        classifier = Classifier(load_taxonomy())
        pool = candidates(got.entries, classifier=classifier, now=utcnow())
        chosen = select(pool, limit=10)
        views = [ItemView(position=n, title=c.story.lead.title, url=c.canonical_url,
                          summary=c.story.lead.summary, language=c.language, topic=c.topic,
                          matched=c.matched, published_at=c.story.lead.published_at,
                          sources=tuple(SourceView(e.feed_title, e.link)
                                        for e in c.story.entries))
                 for n, c in enumerate(chosen, 1)]
        render_digest(items=views, week="2026-W47", taxonomy=classifier.taxonomy,
                      language="en", gettext=lambda m, **kw: m.format(**kw) if kw else m)
        full_s = time.perf_counter() - t
        entries = got.entries

    ratio = full_s / parse_s
    print(f"inputs: {SOURCES} sources, {n_parsed} entries; {len(pool)} stories, "
          f"{len(chosen)} selected")
    print(f"feedparser alone: {parse_s:.2f} s; full pipeline: {full_s:.2f} s; "
          f"ratio {ratio:.2f} (target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")
    print(f"  (for information: feedparser with the pipeline's options {lean_s:.2f} s, so "
          f"our own stages take about {full_s - lean_s:.2f} s)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:.0f} MB (target <= 400 MB: "
          f"{'met' if peak_mb <= 400 else 'NOT met'})")

    rng = random.Random(48)
    e20 = entries[:20_000]
    extra = [replace(e, canonical_url=f"https://dup.example/{i}",
                     title=_perturb(rng, e.title, 0.3) + f" x{i}",
                     summary=_perturb(rng, e.summary, 0.35)) for i, e in enumerate(e20)]
    e40 = e20 + extra
    cluster(e20[:2000])  # warm-up
    t20 = _best_of(5, lambda: cluster(e20))
    t40 = _best_of(5, lambda: cluster(e40))
    cr = t40 / t20
    print(f"clustering (best of 5): 20,000 entries {t20:.2f} s; 40,000 entries {t40:.2f} s; "
          f"ratio {cr:.2f} (target <= 2.3: {'met' if cr <= 2.3 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
