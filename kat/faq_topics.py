"""The FAQ topics offered as buttons when the assistant is unsure which answer a question
needs (content/faq_topics.yml; used by components/profile_nlg.py for utter_faq_unsure),
and the answer-feedback buttons' topics and payloads (below).

Pure helpers: no Rasa imports. The FAQ selector's ranking comes in as Rasa writes it
(``[{"intent_response_key": "faq/<topic>", "confidence": ...}, ...]``).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import (
    Any,
    Collection,
    Dict,
    FrozenSet,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

import yaml

from kat.paths import PROJECT_ROOT, content_dir

RETRIEVAL_INTENT = "faq"


def _words(name: str, entry: Any) -> Dict[str, str]:
    title = str((entry or {}).get("title") or "").strip()
    question = str((entry or {}).get("question") or "").strip()
    if not title or not question:
        raise ValueError(f"faq_topics.yml: {name} needs a title and a question")
    return {"title": title, "question": question}


def load_topics(path: Any = None) -> Dict[str, Dict[str, Any]]:
    """topic -> {"title": ..., "question": ..., and per other language, e.g.
    "es": {"title": ..., "question": ...}}; refuses entries without both."""
    source = path or content_dir() / "faq_topics.yml"
    with open(source, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    topics: Dict[str, Dict[str, Any]] = {}
    for name, entry in (data.get("topics") or {}).items():
        words: Dict[str, Any] = dict(_words(str(name), entry))
        for key, value in (entry or {}).items():
            if isinstance(value, dict):
                words[str(key)] = _words(f"{name}.{key}", value)
        topics[str(name)] = words
    return topics


@lru_cache(maxsize=1)
def cached_topics() -> Dict[str, Dict[str, Any]]:
    return load_topics()


def likely_topics(
    ranking: Sequence[Mapping[str, Any]], limit: int = 2, floor: float = 0.05
) -> List[str]:
    """The ``limit`` most likely FAQ topics of a selector ranking, each at least
    ``floor`` likely, most likely first."""
    found: List[str] = []
    for item in sorted(
        ranking, key=lambda x: float(x.get("confidence") or 0.0), reverse=True
    ):
        key = str(item.get("intent_response_key") or "")
        intent, _, topic = key.partition("/")
        if intent != RETRIEVAL_INTENT or not topic or topic in found:
            continue
        if float(item.get("confidence") or 0.0) < floor:
            break
        found.append(topic)
        if len(found) == limit:
            break
    return found


def topic_buttons(
    ranking: Sequence[Mapping[str, Any]],
    topics: Mapping[str, Mapping[str, Any]],
    limit: int = 2,
    language: str = "en",
) -> List[Dict[str, str]]:
    """Buttons (title, payload = the topic's question) for the most likely topics that
    content/faq_topics.yml describes, in ``language`` where the topic has it (its
    ``es: {title, question}``), else in English."""
    buttons = []
    for topic in likely_topics(ranking, limit=max(len(ranking), 1)):
        if topic not in topics:
            continue
        entry = topics[topic]
        own = entry.get(language) if language != "en" else None
        words = own if isinstance(own, Mapping) else entry
        buttons.append({"title": str(words["title"]), "payload": str(words["question"])})
    return buttons[:limit]


# --- Answer feedback ("Was this answer helpful?" after an FAQ or clinic-facts answer) ---
# components/profile_nlg.py adds the two buttons, components/safety_gate.py lets only
# their exact payloads through; Rasa saves the click as the user event (intent feedback,
# entities topic and helpful), which kat/insights.py counts.
FEEDBACK_INTENT = "feedback"
FEEDBACK_VERDICTS = ("yes", "no")
FEEDBACK_ENTITIES = {"topic", "helpful"}
FAQ_ANSWER_PREFIX = "utter_faq/"
CLINIC_INFO_ANSWER_PREFIX = "utter_clinic_info_"
_FEEDBACK_TOPIC = re.compile(r"[a-z0-9_]{1,40}")


# The name endings of a reply's twins in the other conversation languages.
SPOKEN_SUFFIXES = ("_es",)


def answer_topic(response: str) -> Optional[str]:
    """The topic a reply's feedback names: ``side_effects`` for ``utter_faq/side_effects``,
    ``clinic_info_cost`` for ``utter_clinic_info_cost``; None for any other reply."""
    if response.endswith(SPOKEN_SUFFIXES):
        return (
            None  # a reply's Spanish twin is the same reply (components/profile_nlg.py)
        )
    if response.startswith(FAQ_ANSWER_PREFIX):
        topic = response[len(FAQ_ANSWER_PREFIX) :]
    elif response.startswith(CLINIC_INFO_ANSWER_PREFIX):
        topic = response[len("utter_") :]
    else:
        return None
    return topic if _FEEDBACK_TOPIC.fullmatch(topic) else None


def feedback_topics(
    response_names: Iterable[str], topics: Optional[Mapping[str, Any]] = None
) -> FrozenSet[str]:
    """The topics feedback may name: the FAQ topics of content/faq_topics.yml and the
    clinic-facts kinds (``clinic_info_<kind>``) among a domain's response names."""
    kinds = {
        topic
        for name in response_names
        if name.startswith(CLINIC_INFO_ANSWER_PREFIX)
        and (topic := answer_topic(name)) is not None
    }
    return frozenset(set(cached_topics() if topics is None else topics) | kinds)


def domain_response_names(path: Any = None) -> List[str]:
    """The response names of the project's domain.yml ([] without the file: the Rasa
    image has only the trained model, whose own domain the gate reads)."""
    source = Path(path) if path else PROJECT_ROOT / "domain.yml"
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except OSError:
        return []
    return [str(name) for name in data.get("responses") or {}]


def feedback_payload(topic: str, helpful: str) -> str:
    """A feedback button's payload, ``/feedback{"topic":"side_effects","helpful":"yes"}``
    (compact: Telegram's inline buttons carry at most 64 bytes)."""
    entities = {"topic": topic, "helpful": helpful}
    return "/" + FEEDBACK_INTENT + json.dumps(entities, separators=(",", ":"))


def parse_feedback(text: str, known_topics: Collection[str]) -> Optional[Tuple[str, str]]:
    """(topic, helpful) when ``text`` is exactly a feedback button's payload: the
    command, then a JSON object with only ``topic`` (one of ``known_topics``) and
    ``helpful`` (yes or no). None for anything else, including a confidence
    (``/feedback@0.9{...}``), other entities, other values or text after the object."""
    command = "/" + FEEDBACK_INTENT
    text = text.strip()
    if not text.startswith(command):
        return None
    try:
        entities = json.loads(text[len(command) :])
    except ValueError:
        return None
    if not isinstance(entities, dict) or set(entities) != FEEDBACK_ENTITIES:
        return None
    topic, helpful = entities["topic"], entities["helpful"]
    if not (isinstance(topic, str) and isinstance(helpful, str)):
        return None
    if topic not in known_topics or helpful not in FEEDBACK_VERDICTS:
        return None
    return topic, helpful
