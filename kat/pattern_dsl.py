"""A small, reviewable pattern syntax compiled to spaCy Matcher token patterns.

One pattern per line, tokens separated by spaces:

    word            the token, lower-case
    a|b|c           any one of these single tokens
    (a b|c|d e f)   any one of these token sequences (a group; groups do not nest)
    (a b|c)?        the same, or nothing
    ~regex          a token matching the regular expression (re.search)
    token?          the token is optional (words and alternatives, not regexes)
    ...             up to three tokens of anything

A line with groups stands for every combination of its groups' alternatives, so
``(ca n't|cannot) breathe`` is two Matcher patterns (a group's one-word alternatives
count as one ``a|b`` token: ``(can|could) you`` is one). Used by the pattern files in
``content/safety/``.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

WILDCARD = "..."
WILDCARD_SPAN = 3


class PatternSyntaxError(ValueError):
    """A pattern line cannot be compiled; the message names it."""


def compile_token(token: str) -> Dict[str, Any]:
    # A trailing "?" marks an optional token, except on a regex, where it belongs to
    # the regular expression.
    optional = token.endswith("?") and len(token) > 1 and not token.startswith("~")
    if optional:
        token = token[:-1]
    spec: Dict[str, Any]
    if token.startswith("~"):
        regex = token[1:]
        if not regex:
            raise PatternSyntaxError("empty regex")
        re.compile(regex)
        spec = {"LOWER": {"REGEX": regex}}
    elif "|" in token:
        options = [t for t in token.split("|") if t]
        if not options:
            raise PatternSyntaxError(f"empty alternatives in {token!r}")
        spec = {"LOWER": {"IN": options}}
    else:
        spec = {"LOWER": token}
    if optional:
        spec["OP"] = "?"
    return spec


def _merge_single_tokens(options: List[str]) -> List[str]:
    """A group's one-word alternatives as one ``a|b|c`` token, the others as they are.

    ``(toddler|baby|kid|little one) (got into|found|opened)`` is then 2 x 2 lines, not
    4 x 3: a line stands for the product of its groups, and the safety files had grown
    to 250,000 Matcher patterns (a minute to load each time a server started). The
    matches are the same: ``a|b|c`` matches exactly the tokens the three lines did.
    """
    single = [
        o
        for o in options
        if len(o.split()) == 1
        and not o.startswith("~")
        and not o.endswith("?")
        and o != WILDCARD
    ]
    if len(single) < 2:
        return options
    rest = [o for o in options if o not in single]
    return ["|".join(dict.fromkeys(single))] + rest


def expand_groups(line: str) -> List[str]:
    """Every concrete line a pattern with ``(a b|c)`` groups stands for.

    Regex tokens (``~...``) may contain parentheses of their own and are never groups.
    """
    choices: List[List[str]] = []
    group: List[str] | None = None
    for token in str(line).split():
        if group is None and token.startswith("(") and not token.startswith("~"):
            group = []
            token = token[1:]
        if group is not None:
            optional_group = token.endswith(")?")
            closing = optional_group or token.endswith(")")
            group.append(
                token[: -len(")?")]
                if optional_group
                else token[:-1]
                if closing
                else token
            )
            if closing:
                options = [o.strip() for o in " ".join(group).split("|")]
                if any(not o or "(" in o or ")" in o for o in options):
                    raise PatternSyntaxError(f"bad group in {line!r}")
                options = _merge_single_tokens(options)
                choices.append(options + [""] if optional_group else options)
                group = None
            continue
        if ")" in token and not token.startswith("~"):
            raise PatternSyntaxError(f"unbalanced parenthesis in {line!r}")
        choices.append([token])
    if group is not None:
        raise PatternSyntaxError(f"unclosed group in {line!r}")
    return [" ".join(" ".join(combo).split()) for combo in itertools.product(*choices)]


def _compile_plain(line: str) -> List[Dict[str, Any]]:
    tokens = line.split()
    if not tokens:
        raise PatternSyntaxError("empty pattern")
    pattern: List[Dict[str, Any]] = []
    for token in tokens:
        if token == WILDCARD:
            pattern.extend({"OP": "?"} for _ in range(WILDCARD_SPAN))
        else:
            pattern.append(compile_token(token))
    if all(spec.get("OP") == "?" for spec in pattern):
        raise PatternSyntaxError(f"pattern {line!r} can match nothing at all")
    return pattern


def anchor_words(pattern: List[Dict[str, Any]]) -> Optional[List[str]]:
    """Words one of which every match of ``pattern`` must contain, or None.

    The anchor is a required (non-optional) token: a plain word if there is one (the
    longest, usually the rarest), otherwise the alternatives of the required token with
    the fewest. Patterns whose required tokens are all regexes have no anchor.
    """
    required = [spec for spec in pattern if "OP" not in spec and "LOWER" in spec]
    words = [spec["LOWER"] for spec in required if isinstance(spec["LOWER"], str)]
    if words:
        return [max(words, key=len)]
    options = [
        list(spec["LOWER"]["IN"])
        for spec in required
        if isinstance(spec["LOWER"], dict) and "IN" in spec["LOWER"]
    ]
    return min(options, key=len) if options else None


class IndexedMatcher:
    """A spaCy Matcher split by anchor word, so only patterns that can match are run.

    The safety pattern files expand to about 9,500 Matcher patterns, most with optional
    tokens; spaCy tries every pattern at every token, which cost 3-7 ms a message. Each
    pattern here goes to a small Matcher keyed by a word it cannot match without
    (:func:`anchor_words`); a message runs only the Matchers of words it contains (plus
    the few patterns with no anchor). Same matches, as ``(match_id, start, end)`` sorted
    by position; tests/test_pattern_dsl.py checks it against one plain Matcher.
    """

    def __init__(self, vocab: Any) -> None:
        self.vocab = vocab
        self._by_word: Dict[str, Any] = {}
        self._unanchored: Any = None
        self._keys: Set[str] = set()

    def _matcher(self, word: Optional[str]) -> Any:
        from spacy.matcher import Matcher

        if word is None:
            if self._unanchored is None:
                self._unanchored = Matcher(self.vocab)
            return self._unanchored
        if word not in self._by_word:
            self._by_word[word] = Matcher(self.vocab)
        return self._by_word[word]

    def add(self, key: str, patterns: List[List[Dict[str, Any]]]) -> None:
        self._keys.add(key)
        groups: Dict[Optional[str], List[List[Dict[str, Any]]]] = {}
        for pattern in patterns:
            words = anchor_words(pattern)
            anchors: List[Optional[str]] = list(words) if words else [None]
            for word in anchors:
                groups.setdefault(word, []).append(pattern)
        for word, group in groups.items():
            self._matcher(word).add(key, group)

    def __len__(self) -> int:
        return len(self._keys)

    def __call__(self, doc: Any) -> List[Tuple[int, int, int]]:
        words = {token.lower_ for token in doc}
        # Look up the message's few words, not all ~500 anchors.
        matchers = [self._by_word[w] for w in words if w in self._by_word]
        if self._unanchored is not None:
            matchers.append(self._unanchored)
        found: Set[Tuple[int, int, int]] = set()
        for matcher in matchers:
            found.update((int(k), int(s), int(e)) for k, s, e in matcher(doc))
        return sorted(found, key=lambda m: (m[1], m[2], m[0]))


def matcher_for(vocab: Any, label: str, lines: Iterable[str]) -> IndexedMatcher:
    """A matcher for pattern lines; match ids are ``"<label>|<line number>"``."""
    matcher = IndexedMatcher(vocab)
    for i, line in enumerate(lines):
        matcher.add(f"{label}|{i}", compile_pattern(line))
    return matcher


def compile_pattern(line: str) -> List[List[Dict[str, Any]]]:
    """Compile one pattern line to the spaCy Matcher patterns it stands for."""
    return [_compile_plain(concrete) for concrete in expand_groups(line)]


@lru_cache(maxsize=1)
def blank_english() -> Any:
    """One blank English tokenizer for every pattern layer, so that they can share
    the tokens of a message (:func:`doc_for`)."""
    import spacy

    return spacy.blank("en")


@lru_cache(maxsize=64)
def doc_for(nlp: Any, normaliser: Any, text: str) -> Any:
    """The tokens of ``normaliser(text)``, made once per message: the crisis, routing
    and coverage layers each read the same message several times."""
    return nlp.make_doc(normaliser(text))
