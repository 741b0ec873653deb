"""Deterministic crisis and emergency detection from reviewed patterns.

The pattern file ``content/safety/crisis_patterns.yml`` says what counts (its header
explains the steps). This module only applies it: normalise the text, run spaCy's
Matcher, then drop matches that are idioms, clearly negated ("I'm not suicidal"), general
questions about the treatment ("can ketamine cause seizures?") or medical history. When
in doubt it is a crisis: negations are honoured only in a narrow, explicit form, and a
contrast with any residual risk ("not suicidal, but I think about death") counts.

No Rasa imports: the Rasa safety gate (components/safety_gate.py), the tests and the
benchmark all call :meth:`CrisisDetector.assess`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
)

import yaml

from kat import first_person
from kat.input_check import fold_word
from kat.normalise import FoldingNormaliser, default_normaliser
from kat.paths import content_dir
from kat.pattern_dsl import (
    IndexedMatcher,
    blank_english,
    compile_pattern,
    doc_for,
    matcher_for,
)


@dataclass(frozen=True)
class CrisisAssessment:
    """What the detector found. ``matched`` holds patient text: never log it."""

    is_crisis: bool
    categories: Tuple[str, ...] = ()
    reason: str = "no_match"
    matched: Tuple[str, ...] = field(default=(), repr=False)
    # A crisis found by at least one `strong` pattern (not only by a risk word).
    strong: bool = False
    # When cleared: the words the patterns matched before they were explained (as this
    # detector read them). Patient text too: never log it.
    seen: FrozenSet[str] = field(default=frozenset(), repr=False)


@dataclass(frozen=True)
class _Match:
    category: str
    strength: str  # "strong" or "topic"
    start: int
    end: int


class CrisisDetector:
    """Applies the crisis pattern file to a message."""

    def __init__(
        self,
        config: Dict[str, Any],
        normaliser: Optional[Any] = None,
        nlp: Any = None,
    ) -> None:

        self.config = config
        self.normalise = normaliser or default_normaliser()
        self.nlp = nlp or blank_english()
        vocab = self.nlp.vocab

        self.matcher = IndexedMatcher(vocab)
        self._past_context_categories: Set[str] = set()
        for category, spec in config["categories"].items():
            if spec.get("past_context_applies"):
                self._past_context_categories.add(category)
            for strength in ("strong", "topic"):
                for i, line in enumerate(spec.get(strength) or []):
                    self.matcher.add(f"{category}|{strength}|{i}", compile_pattern(line))

        self.idioms = matcher_for(vocab, "idiom", config.get("idioms", []))
        self.hyperbole = matcher_for(vocab, "hyperbole", config.get("hyperbole", []))
        self.distress = matcher_for(vocab, "distress", config.get("distress") or [])
        self.has_distress_patterns = bool(config.get("distress"))
        resolved = config.get("resolved_past") or {}
        self.resolved_when = matcher_for(vocab, "long_ago", resolved.get("when") or [])
        self.resolved_over = matcher_for(vocab, "over", resolved.get("resolved") or [])
        self.side_effect_questions = matcher_for(
            vocab, "side_effect", config.get("side_effect_questions") or []
        )
        eligibility = config.get("eligibility_questions") or {}
        self.eligibility_questions = matcher_for(
            vocab, "eligibility", eligibility.get("asks") or []
        )
        self.acute = matcher_for(vocab, "acute", eligibility.get("unless") or [])
        # Categories whose `topic` matches (a risk word, not a strong phrase) an
        # eligibility question clears too: "my blood pressure runs high, does that
        # rule me out" (hallucinations are cleared at any strength).
        self.eligibility_topic_categories = set(eligibility.get("clears_topics") or [])
        self.past_context = matcher_for(vocab, "past", config.get("past_context", []))
        self.past_attempts = matcher_for(
            vocab, "past_attempt", config.get("past_attempts") or []
        )
        general = config["general_question"]
        self.lead_ins = matcher_for(vocab, "lead_in", general["lead_ins"])
        self.question_words = {w.lower() for w in general["question_words"]}
        self.informational = matcher_for(
            vocab, "informational", general.get("informational") or []
        )
        self.self_disclosure = matcher_for(
            vocab, "self_disclosure", general.get("self_disclosure") or []
        )
        self.informational_categories = set(general.get("informational_categories") or [])
        self.first_person = set(first_person.words(general["first_person"]))
        negation = config["negation"]
        self.cues = set(negation["cues"])
        self.window = int(negation["window"])
        self.bridges = set(negation["bridges"])
        self.pronouns = set(negation["pronouns"])
        self.contrasts = set(negation["contrasts"])
        self.residual = matcher_for(vocab, "risk", negation["residual_risk"])
        self.trailing_denials = matcher_for(
            vocab, "denial", negation.get("trailing_denials", [])
        )
        self.nlu_support = matcher_for(
            vocab, "support", config.get("nlu_support_words", [])
        )
        self.clause_breaks = {",", ".", ";", "!", "?", "but", "and", "so", "-", "—"}

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> CrisisDetector:
        return cls(load_crisis_config(path))

    # --- steps ------------------------------------------------------------------------
    def _matches(self, doc: Any) -> List[_Match]:
        strings = self.nlp.vocab.strings
        found = []
        for match_id, start, end in self.matcher(doc):
            category, strength, _ = strings[match_id].split("|")
            found.append(_Match(category, strength, start, end))
        return found

    def _is_negated(self, doc: Any, start: int) -> bool:
        for back in range(1, self.window + 1):
            index = start - back
            if index < 0:
                return False
            token = doc[index].lower_
            if token in self.cues:
                following = doc[index + 1].lower_ if index + 1 < start else ""
                return following not in self.pronouns
            if token not in self.bridges:
                return False
        return False

    def _denied_after(self, doc: Any, match: _Match) -> bool:
        """A topic match followed, in the same sentence, by a denial ending its clause."""
        for _, start, end in self.trailing_denials(doc):
            if start < match.end or start - match.end > 8:
                continue
            if end == len(doc) or doc[end].lower_ in self.clause_breaks:
                return True
        return False

    def _is_general_question(self, doc: Any) -> bool:
        # Lead-ins sit at the start: match them once, on the opening tokens only.
        opening = doc[: min(len(doc), 16)]
        ends_at: Dict[int, int] = {}
        for _, start, end in self.lead_ins(opening):
            ends_at[start] = max(end, ends_at.get(start, start))
        position = 0
        while position in ends_at:
            position = ends_at[position]
        if position >= len(doc) or doc[position].lower_ not in self.question_words:
            return False
        return not any(token.lower_ in self.first_person for token in doc[position:])

    def _contrast_with_risk(self, doc: Any, after: int) -> bool:
        contrast_at = [t.i for t in doc[after:] if t.lower_ in self.contrasts]
        if not contrast_at:
            return False
        return any(start > contrast_at[0] for _, start, _ in self.residual(doc))

    def has_idiom(self, text: str) -> bool:
        """Whether the message holds one of the reviewed idioms ("dying to try")."""
        return bool(self.idioms(doc_for(self.nlp, self.normalise, text)))

    def shows_distress(self, text: str) -> bool:
        """Hopelessness that is not a crisis on its own ("nothing is ever going to
        change"): the check-in, not a hand-off or an answer. Not in a general question,
        an idiom or a denial ("i'm not hopeless, just curious")."""
        if not self.has_distress_patterns:
            return False  # a language file without a distress list: nothing to read
        doc = doc_for(self.nlp, self.normalise, text)
        found = self.distress(doc)
        if not found or self._is_general_question(doc):
            return False
        return self._any_unexplained(doc, found)

    def has_risk_words(self, text: str) -> bool:
        """Whether the message has a risk word that could support the NLU's crisis guess.

        Words inside an idiom ("freezing to death") or negated ("not a danger") don't count.
        """
        doc = doc_for(self.nlp, self.normalise, text)
        return self._any_unexplained(doc, self.nlu_support(doc))

    def _any_unexplained(self, doc: Any, found: Sequence[Tuple[int, int, int]]) -> bool:
        """Whether any of these matches stands outside every idiom and is not negated."""
        idiom_tokens = {i for _, s, e in self.idioms(doc) for i in range(s, e)}
        return any(
            start not in idiom_tokens and not self._is_negated(doc, start)
            for _, start, _ in found
        )

    # --- the decision -----------------------------------------------------------------
    def assess(self, text: str) -> CrisisAssessment:
        doc = doc_for(self.nlp, self.normalise, text)
        matches = self._matches(doc)
        if not matches:
            hyperbole = self.hyperbole(doc)
            if hyperbole:
                # No risk words of ours, but reviewed hyperbole ("my roommate will
                # strangle me if i leave dishes again"): looked and cleared, so the NLU's
                # guess alone does not make it a crisis (components/safety_gate.py).
                words = frozenset(t.lower_ for _, s, e in hyperbole for t in doc[s:e])
                return CrisisAssessment(False, reason="idiom", seen=words)
            return CrisisAssessment(False)
        seen = frozenset(t.lower_ for m in matches for t in doc[m.start : m.end])

        idiom_spans = [(s, e) for _, s, e in self.idioms(doc) + self.hyperbole(doc)]
        matches = [
            m
            for m in matches
            if not any(s < m.end and m.start < e for s, e in idiom_spans)
        ]
        if not matches:
            return CrisisAssessment(False, reason="idiom", seen=seen)

        general = self._is_general_question(doc)
        informational = bool(self.informational(doc)) and not self.self_disclosure(doc)
        has_past_context = bool(self.past_context(doc))
        resolved_past = bool(self.resolved_when(doc)) and bool(self.resolved_over(doc))
        # A past attempt told as history: its strong match can be resolved too.
        attempt_spans = [(s, e) for _, s, e in self.past_attempts(doc)]
        # "i hear voices sometimes, does that rule me out?": a contraindication question
        # (active psychosis is on the sheet's list); "is seeing things a normal side
        # effect?": a question about the treatment. Neither when it sounds acute ("is it
        # normal that i'm still seeing things since my session, i'm terrified").
        acute = bool(self.acute(doc))
        side_effect_question = bool(self.side_effect_questions(doc)) and not acute
        eligibility_question = bool(self.eligibility_questions(doc)) and not acute
        live: List[_Match] = []
        negated: List[_Match] = []
        reasons: Set[str] = set()
        for match in matches:
            if match.strength == "topic" and general:
                reasons.add("general_question")
                continue
            if (
                match.strength == "topic"
                and informational
                and match.category in self.informational_categories
            ):
                # "im writing a paper on suicide prevention", "just curious in general
                # whether it's used for suicidal depression": asking about the subject.
                reasons.add("informational")
                continue
            if resolved_past and (
                match.strength == "topic"
                or any(s < match.end and match.start < e for s, e in attempt_spans)
            ):
                reasons.add("resolved_past")
                continue
            if eligibility_question and (
                match.category == "hallucinations"
                or (
                    match.strength == "topic"
                    and match.category in self.eligibility_topic_categories
                )
            ):
                reasons.add("eligibility_question")
                continue
            if side_effect_question and match.category == "hallucinations":
                # "will i see things that aren't there during the session?": a
                # question about what the treatment may do, even in strong words.
                reasons.add("side_effect_question")
                continue
            if (
                match.strength == "topic"
                and has_past_context
                and match.category in self._past_context_categories
            ):
                reasons.add("past_context")
                continue
            if self._is_negated(doc, match.start) or (
                match.strength == "topic" and self._denied_after(doc, match)
            ):
                negated.append(match)
                continue
            live.append(match)

        if live:
            return self._crisis(doc, live, "match")
        if negated:
            last_end = max(m.end for m in negated)
            if self._contrast_with_risk(doc, last_end):
                return self._crisis(doc, negated, "contrast_after_negation")
            reasons.add("negated")
        reason = "+".join(sorted(reasons)) or "no_match"
        return CrisisAssessment(False, reason=reason, seen=seen)

    @staticmethod
    def _crisis(doc: Any, matches: Sequence[_Match], reason: str) -> CrisisAssessment:
        categories = tuple(sorted({m.category for m in matches}))
        matched = tuple(doc[m.start : m.end].text for m in matches)
        strong = any(m.strength == "strong" for m in matches)
        return CrisisAssessment(True, categories, reason, matched, strong)


def load_crisis_config(path: Optional[Path] = None) -> Dict[str, Any]:
    path = path or content_dir() / "safety" / "crisis_patterns.yml"
    with open(path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    for key in ("categories", "general_question", "negation"):
        if key not in config:
            raise ValueError(f"{path}: missing section {key!r}")
    return dict(config)


@lru_cache(maxsize=1)
def default_detector() -> CrisisDetector:
    """The detector for the shipped pattern file, built once per process."""
    return CrisisDetector.from_file()


# Reviewed crisis patterns in other languages, checked after English (the safety gate's
# ``crisis_languages``): content/safety/crisis_patterns_<language>.yml, same syntax, text
# folded without accents (kat.normalise.FoldingNormaliser) instead of the English slang.
OTHER_LANGUAGE_FILES = {
    "es": "crisis_patterns_es.yml",
    "intl": "crisis_patterns_intl.yml",
}


@cache
def detector_for(language: str) -> CrisisDetector:
    """The detector for one of OTHER_LANGUAGE_FILES, built once per process."""
    path = content_dir() / "safety" / OTHER_LANGUAGE_FILES[language]
    config = load_crisis_config(path)
    return CrisisDetector(config, normaliser=FoldingNormaliser(config.get("normalise")))


def _in_any_language(
    check: Callable[[CrisisDetector, str], bool],
    text: str,
    english: CrisisDetector,
    languages: Sequence[str],
) -> bool:
    """``check`` with the English detector, then with each of ``languages``' own."""
    return check(english, text) or any(
        check(detector_for(language), text) for language in languages
    )


def has_idiom_in(text: str, english: CrisisDetector, languages: Sequence[str]) -> bool:
    """Does an idiom of English or of one of ``languages`` explain the message ("se me
    murió el carro")? For the NLU's check-in floor, as ``CrisisDetector.has_idiom``."""
    return _in_any_language(CrisisDetector.has_idiom, text, english, languages)


def has_risk_words_in(
    text: str, english: CrisisDetector, languages: Sequence[str]
) -> bool:
    """``CrisisDetector.has_risk_words`` in English or one of ``languages`` (each
    pattern file's own ``nlu_support_words``)."""
    return _in_any_language(CrisisDetector.has_risk_words, text, english, languages)


def shows_distress_in(
    text: str, english: CrisisDetector, languages: Sequence[str]
) -> bool:
    """``CrisisDetector.shows_distress`` in English or one of ``languages``."""
    return _in_any_language(CrisisDetector.shows_distress, text, english, languages)


def _cleared_by(
    own: Optional[CrisisAssessment], found: CrisisAssessment
) -> Optional[CrisisAssessment]:
    """``own`` (the message's own language's verdict, when it cleared the message) if
    its patterns saw every word ``found`` matched, else None."""
    if own is None or own.is_crisis:
        return None
    words = {fold_word(w) for span in found.matched for w in span.split()}
    return own if words <= {fold_word(w) for w in own.seen} else None


def assess_languages(
    text: str,
    english: CrisisDetector,
    languages: Sequence[str],
    other_language: bool,
    language: Optional[str] = None,
) -> Tuple[CrisisAssessment, Optional[str]]:
    """English first, then each of ``languages``; (assessment, language or None).

    In a message in another language (``other_language``, from kat/input_check.py) an
    English risk word alone ("suicidas") is not a crisis: only a `strong` English match
    counts there, and the other language's own patterns decide, negations and all.

    In a message that reads as one of ``languages`` (``language``, the gate's choice of
    conversation language), words another file matched only because they look alike
    ("hace 8 años tuve un intento de suicidio, hoy estoy bien": English's ``~^suicid``
    and the Portuguese ``suicidio`` read the Spanish word) are that language's to judge:
    when its own patterns saw the same words and cleared them, the message is cleared.
    An English `strong` match always stands.
    """
    found = english.assess(text)
    # The message's own language's verdict, once: the loop below reuses it.
    verdicts: Dict[str, CrisisAssessment] = {}
    if language in languages:
        verdicts[str(language)] = detector_for(str(language)).assess(text)
    own = verdicts.get(str(language))
    if found.is_crisis and (found.strong or not other_language):
        there = None if found.strong else _cleared_by(own, found)
        return there or found, None
    cleared: Optional[CrisisAssessment] = None
    for each in languages:
        other = verdicts[each] if each in verdicts else detector_for(each).assess(text)
        if other.is_crisis:
            if each != language and _cleared_by(own, other):
                continue  # the message's own language saw these words and cleared them
            return other, each
        if cleared is None and other.reason != "no_match":
            cleared = other  # "me quiero morir de la vergüenza": looked and cleared
    if found.is_crisis:
        return (
            _cleared_by(own, found) or CrisisAssessment(False, reason="other_language"),
            None,
        )
    if found.reason == "no_match" and cleared is not None:
        # The English patterns saw nothing, another language's saw and cleared it (an
        # idiom, a negation): the caller's NLU thresholds treat it as cleared.
        return cleared, None
    return found, None
