"""Deterministic routing of clinical questions and misuse requests.

Applies ``content/safety/routing_patterns.yml`` (its header explains the rules): a
clinical question goes to a person, never to the FAQ; a request to buy, divert or get
high on ketamine gets a refusal. Crisis detection (kat/crisis.py) runs before this.
No Rasa imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import yaml

from kat import first_person
from kat.entity_patterns import iter_terms, load_term_list
from kat.normalise import (
    FoldingNormaliser,
    Normaliser,
    default_normaliser,
    folding_normaliser,
)
from kat.paths import content_dir, language_content
from kat.pattern_dsl import (
    IndexedMatcher,
    blank_english,
    compile_pattern,
    doc_for,
    matcher_for,
)

# Ketamine itself is what every patient asks about: not a sign of a personal question.
EXCLUDED_ENTITY_PHRASES = {
    "ketamine",
    "ketamin",
    "ketamne",
    "ket",
    "special k",
    "vitamin k",
}
SENTENCE_ENDS = {".", "?", "!", "\n", "..."}
CLINICAL = "clinical"
MISUSE = "misuse"
INJECTION = "injection"


@dataclass(frozen=True)
class RoutingDecision:
    """``kind`` is "clinical", "misuse", "injection" or None; ``topics`` name the
    clinical areas."""

    kind: Optional[str] = None
    topics: Tuple[str, ...] = ()
    urgent: bool = False
    # "Who shouldn't get ketamine?": answered by the contraindication check.
    contraindication_question: bool = False


class Router:
    def __init__(
        self,
        config: Dict[str, Any],
        normaliser: Optional[Union[Normaliser, FoldingNormaliser]] = None,
        nlp: Any = None,
    ) -> None:

        self.normalise = normaliser or default_normaliser()
        self.nlp = nlp or blank_english()
        vocab = self.nlp.vocab
        self.first_person = set(first_person.words(config["first_person"]))
        self.clinical = IndexedMatcher(vocab)
        for topic, spec in config["clinical"].items():
            for mode in ("always", "personal"):
                for i, line in enumerate(spec.get(mode) or []):
                    self.clinical.add(f"{topic}|{mode}|{i}", compile_pattern(line))
            labels = spec.get("personal_terms_from_entities") or []
            if labels:
                phrases = sorted(entity_phrases(labels) - EXCLUDED_ENTITY_PHRASES)
                patterns = [[{"LOWER": word} for word in p.split()] for p in phrases]
                self.clinical.add(f"{topic}|personal|entities", patterns)
        self.not_personal = matcher_for(
            vocab, "not_personal", config.get("not_personal") or []
        )
        self.urgent = matcher_for(vocab, "urgent", config.get("urgent") or [])
        self.hypothetical = matcher_for(
            vocab, "hypothetical", config.get("hypothetical_symptoms") or []
        )
        self.contraindication = matcher_for(
            vocab, "contra", config.get("contraindication_questions") or []
        )
        self.misuse = matcher_for(vocab, "misuse", config["misuse"]["always"])
        self.injection = matcher_for(vocab, "injection", config.get("injection") or [])
        self.misuse_history = matcher_for(
            vocab, "misuse_history", config["misuse"].get("history") or []
        )
        self.misuse_asks = matcher_for(
            vocab, "misuse_asks", config["misuse"].get("asks") or []
        )
        self.misuse_comparisons = matcher_for(
            vocab, "misuse_comparisons", config["misuse"].get("comparisons") or []
        )

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> Router:
        path = path or content_dir() / "safety" / "routing_patterns.yml"
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle))

    @staticmethod
    def _sentence_numbers(doc: Any) -> List[int]:
        """For each token, the number of the sentence (split at . ? ! and line breaks)
        holding it: one pass over the message, not one per token (a 4,096-character
        message took 140 ms when each token counted the sentence ends before it)."""
        numbers, sentence = [], 0
        for token in doc:
            numbers.append(sentence)
            if token.text in SENTENCE_ENDS:
                sentence += 1
        return numbers

    def _personal_sentences(self, doc: Any, sentences: List[int]) -> set[int]:
        masked = {i for _, s, e in self.not_personal(doc) for i in range(s, e)}
        return {
            sentences[token.i]
            for token in doc
            if token.lower_ in self.first_person and token.i not in masked
        }

    def is_personal(self, text: str) -> bool:
        """Whether any sentence is about the writer (first-person words outside the
        ``not_personal`` phrases)."""
        doc = doc_for(self.nlp, self.normalise, text)
        return bool(self._personal_sentences(doc, self._sentence_numbers(doc)))

    def classify(self, text: str) -> RoutingDecision:
        doc = doc_for(self.nlp, self.normalise, text)
        if self.injection(doc):
            return RoutingDecision(INJECTION)
        if self.misuse(doc):
            asks = bool(self.misuse_asks(doc))
            # A comparison with recreational use ("how much do you give compared to
            # what people take at raves") asks what the sheet answers (dose,
            # addiction): unless it asks for some, the clinical patterns and the NLU
            # decide below, as for any other question.
            if asks or not self.misuse_comparisons(doc):
                if self.misuse_history(doc) and not asks:
                    # Past use told, nothing asked for: a history of ketamine misuse is
                    # on the sheet's contraindication list (routing_patterns.yml).
                    return RoutingDecision(contraindication_question=True)
                return RoutingDecision(MISUSE)
        sentences = self._sentence_numbers(doc)
        personal_sentences = self._personal_sentences(doc, sentences)
        strings = self.nlp.vocab.strings
        hypothetical = {sentences[start] for _, start, _ in self.hypothetical(doc)}
        topics = set()
        for match_id, start, _ in self.clinical(doc):
            topic, mode, _ = strings[match_id].split("|")
            if mode == "always":
                topics.add(topic)
            elif sentences[start] in personal_sentences and not (
                topic == "symptoms" and sentences[start] in hypothetical
            ):
                # "would i feel dizzy after?" asks what it may do, reports nothing
                topics.add(topic)
        contra = bool(self.contraindication(doc))
        if not topics:
            return RoutingDecision(contraindication_question=contra)
        urgent = "symptoms" in topics and bool(self.urgent(doc))
        return RoutingDecision(CLINICAL, tuple(sorted(topics)), urgent, contra)


def entity_phrases(labels: Any) -> set[str]:
    """Phrases of the given labels from the reviewed term list (content/spacy)."""
    return {e.phrase for e in iter_terms(load_term_list()) if e.label in set(labels)}


@lru_cache(maxsize=1)
def default_router() -> Router:
    return Router.from_file()


@lru_cache(maxsize=4)
def router_for(language: str) -> Router:
    """The router of a conversation language: English, or
    content/safety/routing_patterns_<language>.yml read like the crisis patterns of that
    language (folded without accents, the same texting spellings: kat/normalise.py).
    A language without its own file gets the English one."""
    path = language_content("safety/routing_patterns", language)
    if path is None:
        return default_router()
    with open(path, encoding="utf-8") as handle:
        return Router(yaml.safe_load(handle), normaliser=folding_normaliser(language))
