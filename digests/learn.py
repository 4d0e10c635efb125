"""What the press review learns from the secretariat's edits.

Every include, exclude and member suggestion is a labelled example (+1:
wanted, -1: not wanted; a split is kept with 0 and teaches no relevance).
Once there are ``MIN_EXAMPLES`` with both labels, a linear model
(scikit-learn's ``LogisticRegression``, classes balanced) on TF-IDF features
of multilingual character n-grams (``char_wb``, 2 to 5 letters: "suspend",
"suspende" and "suspendu" share most of theirs) re-ranks the week's
candidates: an item's score moves by at most ``MAX_SHIFT`` either way, in
proportion to how sure the model is (2 x (p - 0.5)). The taxonomy keeps the
floor: only candidates that are already relevant are re-ranked, so the model
alone never lets an off-scope item in. Below ``MIN_EXAMPLES`` nothing is
fitted and scikit-learn is not even imported (cold start: the taxonomy
alone).

Each move is explained by the examples nearest to the item (cosine
similarity of their TF-IDF vectors at least ``SIMILAR``): "you included 4
similar items".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_EXAMPLES = 30
MAX_SHIFT = 0.2
SIMILAR = 0.25
#: A move smaller than this is not worth telling.
NOTEWORTHY = 0.02


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled example: ``text`` (title and summary), ``label`` +1 or -1."""

    text: str
    label: int


@dataclass(frozen=True, slots=True)
class Shift:
    """How the model moved one item: ``delta`` added to its score (in
    [-MAX_SHIFT, MAX_SHIFT]); ``included`` and ``excluded``: how many
    similar items the secretariat included and excluded."""

    delta: float
    included: int = 0
    excluded: int = 0


class Learned:
    """A fitted model; build it with :func:`fit`."""

    def __init__(self, vectorizer: Any, model: Any, matrix: Any, labels: list[int]) -> None:
        self._vectorizer = vectorizer
        self._model = model
        self._matrix = matrix
        self._labels = labels

    def shifts(self, texts: Sequence[str]) -> list[Shift]:
        """The :class:`Shift` of each text (title and summary of an item)."""
        if not texts:
            return []
        x = self._vectorizer.transform(list(texts))
        wanted = list(self._model.classes_).index(1)
        probs = self._model.predict_proba(x)[:, wanted]
        sims = (x @ self._matrix.T).toarray()
        out = []
        for p, row in zip(probs.tolist(), sims, strict=True):
            near = [lab for lab, s in zip(self._labels, row.tolist(), strict=True)
                    if s >= SIMILAR]
            out.append(Shift(delta=round(MAX_SHIFT * 2.0 * (p - 0.5), 4),
                             included=sum(1 for lab in near if lab > 0),
                             excluded=sum(1 for lab in near if lab < 0)))
        return out


def usable(examples: Sequence[Example]) -> list[Example]:
    """The examples that teach relevance (label +1 or -1)."""
    return [e for e in examples if e.label in (1, -1) and e.text.strip()]


def fit(examples: Sequence[Example]) -> Learned | None:
    """A model of ``examples``, or None (cold start) when fewer than
    ``MIN_EXAMPLES`` teach relevance or they all say the same."""
    got = usable(examples)
    if len(got) < MIN_EXAMPLES or len({e.label for e in got}) < 2:
        return None
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                 lowercase=True, strip_accents="unicode", min_df=1)
    matrix = vectorizer.fit_transform([e.text for e in got])
    labels = [e.label for e in got]
    model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=1000)
    model.fit(matrix, labels)
    return Learned(vectorizer, model, matrix, labels)
