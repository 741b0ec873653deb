"""Medical-term extraction on the held-out entity set (≥100 messages).

Floors, not targets: they catch a broken pattern file or role logic. The benchmark
(benchmarks/bench_entities.py) prints the exact figures, which docs/understanding.md states.
"""

from __future__ import annotations

import pytest

from kat.paths import spacy_pipeline_dir
from tests.entities.scoring import load_messages, score

pytestmark = pytest.mark.skipif(
    not spacy_pipeline_dir().exists(),
    reason="spaCy pipeline not built (make test builds it)",
)


def test_the_set_is_big_enough() -> None:
    assert len(load_messages()) >= 100


def test_terms_are_found_with_their_canonical_ids() -> None:
    scores = score(load_messages(), with_roles=False)
    print(scores.line("terms"))
    assert scores.precision >= 0.90, scores.errors
    assert scores.recall >= 0.80, scores.errors


def test_roles_self_negated_other() -> None:
    scores = score(load_messages(), with_roles=True)
    print(scores.line("terms with roles"))
    assert scores.precision >= 0.85, scores.errors
    assert scores.recall >= 0.75, scores.errors
