"""The held-out and blind evaluation sets stay apart from the training data.

A held-out message that is also a training example measures memory, not understanding
(81 such copies once sat in tests/nlu/test_nlu.yml). This fails listing any message of
tests/nlu/, tests/understanding/ or the everyday test set that a file in data/nlu/
also holds (case and spacing ignored).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, List, Set

import yaml

from kat.nlu_examples import blind_set_items, nlu_examples

ROOT = Path(__file__).resolve().parent.parent


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def training_texts() -> Set[str]:
    return {
        _norm(t) for p in (ROOT / "data" / "nlu").rglob("*.yml") for t in nlu_examples(p)
    }


def copies(texts: Iterable[str], training: Set[str], min_words: int = 1) -> List[str]:
    return [t for t in texts if len(t.split()) >= min_words and _norm(t) in training]


# Blind writers use everyday phrasings too ("yes", "is it safe", "tell me a joke"):
# short messages may coincide with training examples by chance; a longer one may not.
BLIND_MIN_WORDS = 6


def test_the_held_out_nlu_sets_hold_no_training_example() -> None:
    training = training_texts()
    assert len(training) > 5000
    for path in sorted((ROOT / "tests" / "nlu").glob("*.yml")):
        assert copies(nlu_examples(path), training) == [], path.name


def test_the_blind_and_everyday_sets_hold_no_training_example() -> None:
    training = training_texts()
    here = ROOT / "tests" / "understanding"
    for path in sorted(here.glob("blind_*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if (data.get("meta") or {}).get("learned_from"):
            continue  # a set learned from after its first contact may share examples
        texts = [item["text"] for item in blind_set_items(data)]
        # A new writer's own texts may coincide with earlier training examples; the
        # count at first contact is in the set's meta, and training must not add more.
        allowed = int((data.get("meta") or {}).get("coincided_at_first_contact", 0))
        found = copies(texts, training, BLIND_MIN_WORDS)
        assert len(found) <= allowed, (path.name, found)
    everyday = [
        line
        for line in (here / "everyday_test.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert copies(everyday, training) == []


def test_a_copy_is_found() -> None:
    assert copies(["What  IS adhd", "something new"], {"what is adhd"}) == [
        "What  IS adhd"
    ]
