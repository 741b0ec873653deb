"""The indexed matcher finds exactly what one plain spaCy Matcher finds, on the safety
sets and an even sample of the NLU examples."""

from __future__ import annotations

from typing import Any, List, Set, Tuple

import pytest
from spacy.matcher import Matcher

from kat.crisis import default_detector
from kat.pattern_dsl import IndexedMatcher, anchor_words, compile_pattern
from kat.routing import default_router
from tests.test_input_check import _nlu_texts, _safety_texts

# The plain Matcher, every pattern in one, takes about 60 ms a message: the whole
# English corpus (16,000 messages after round 14) took a quarter of an hour. The
# safety sets (where the matches are) and an even sample of the NLU examples instead.
NLU_SAMPLE = 600


def plain_copy(indexed: IndexedMatcher) -> Matcher:
    """One ordinary Matcher holding every pattern of an IndexedMatcher."""
    plain = Matcher(indexed.vocab)
    matchers = list(indexed._by_word.values())
    if indexed._unanchored is not None:
        matchers.append(indexed._unanchored)
    for matcher in matchers:
        for key in list(matcher._patterns):
            name = indexed.vocab.strings[key]
            plain.add(name, matcher.get(key)[1])
    return plain


def sample_corpus() -> List[str]:
    texts = _nlu_texts()
    step = max(1, len(texts) // NLU_SAMPLE)
    return _safety_texts() + texts[::step]


def as_set(matches: Any) -> Set[Tuple[int, int, int]]:
    return {(int(k), int(s), int(e)) for k, s, e in matches}


def test_anchor_words() -> None:
    (pattern,) = compile_pattern("want? to kill myself")
    assert anchor_words(pattern) == ["myself"]
    (pattern,) = compile_pattern("overdose|od on? it")
    assert anchor_words(pattern) == ["it"]
    (pattern,) = compile_pattern("overdose|od|pills")
    assert anchor_words(pattern) == ["overdose", "od", "pills"]
    (pattern,) = compile_pattern("~^kill(ing)?$ myself?")
    assert anchor_words(pattern) is None


@pytest.mark.parametrize("which", ["crisis", "clinical", "misuse"])
def test_same_matches_as_a_plain_matcher_on_every_test_message(which: str) -> None:
    if which == "crisis":
        detector = default_detector()
        indexed, nlp, normalise = detector.matcher, detector.nlp, detector.normalise
    else:
        router = default_router()
        indexed = router.clinical if which == "clinical" else router.misuse
        nlp, normalise = router.nlp, router.normalise
    plain = plain_copy(indexed)
    corpus: List[str] = sample_corpus()
    compared = found = 0
    for text in corpus:
        doc = nlp.make_doc(normalise(text))
        got = indexed(doc)
        assert as_set(got) == as_set(plain(doc)), text
        assert got == sorted(got, key=lambda m: (m[1], m[2], m[0]))
        compared += 1
        found += bool(got)
    assert compared > 1500 and found >= 10  # real messages, and real matches among them
