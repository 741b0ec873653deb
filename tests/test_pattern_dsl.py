"""The indexed matcher finds exactly what one plain spaCy Matcher finds, on the safety
sets and an even sample of the NLU examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import pytest
import yaml
from spacy.matcher import Matcher

from kat.crisis import default_detector
from kat.paths import content_dir
from kat.pattern_dsl import IndexedMatcher, anchor_words, compile_pattern, expand_groups
from kat.routing import default_router
from tests.test_input_check import _nlu_texts, _safety_texts

# The plain Matcher, every pattern in one, took about 60 ms a message when the safety
# files expanded to 250,000 patterns (a quarter of an hour for the 16,000-message
# corpus); with a group's one-word alternatives as one token (about 9,500 patterns,
# 2026-12-07) the whole corpus takes about a minute. The safety sets (where the
# matches are) and an even sample of a quarter of the NLU examples instead.
NLU_SAMPLE = 4000


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


def test_a_groups_one_word_alternatives_are_one_token() -> None:
    # (a|b c|d) is "a|d" or "b c": two Matcher patterns, not three.
    assert expand_groups("(a|b c|d) x (e|f)?") == [
        "a|d x e|f",
        "a|d x",
        "b c x e|f",
        "b c x",
    ]
    assert expand_groups("(ca n't|cannot) breathe") == [
        "ca n't breathe",
        "cannot breathe",
    ]
    # A regex, an optional token or the wildcard stays an alternative of its own.
    assert expand_groups("(~^x$|y?|...|z) w") == ["~^x$ w", "y? w", "... w", "z w"]


def pattern_lines() -> Dict[str, List[str]]:
    """Every string listed in each content/safety pattern file (patterns, cue words)."""

    def strings(value: Any) -> List[str]:
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)] + [
                s for v in value if not isinstance(v, str) for s in strings(v)
            ]
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        return []

    return {
        path.name: strings(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(Path(content_dir(), "safety").glob("*_patterns*.yml"))
    }


def test_the_safety_files_stay_a_few_thousand_matcher_patterns() -> None:
    # Each line stands for the product of its groups: before one-word alternatives
    # became one token, the English crisis file alone was 180,678 patterns and took a
    # minute to load at every server start (2026-12-07).
    counts = {
        name: sum(len(compile_pattern(line)) for line in lines)
        for name, lines in pattern_lines().items()
    }
    print(counts)
    assert sum(counts.values()) < 20_000, counts
