"""The FAQ topics offered as buttons when the assistant is unsure which answer a question
needs (content/faq_topics.yml; used by components/profile_nlg.py for utter_faq_unsure).

Pure helpers: no Rasa imports. The FAQ selector's ranking comes in as Rasa writes it
(``[{"intent_response_key": "faq/<topic>", "confidence": ...}, ...]``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Mapping, Sequence

import yaml

from kat.paths import content_dir

RETRIEVAL_INTENT = "faq"


def load_topics(path: Any = None) -> Dict[str, Dict[str, str]]:
    """topic -> {"title": ..., "question": ...}; refuses entries without both."""
    source = path or content_dir() / "faq_topics.yml"
    with open(source, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    topics: Dict[str, Dict[str, str]] = {}
    for name, entry in (data.get("topics") or {}).items():
        title = str((entry or {}).get("title") or "").strip()
        question = str((entry or {}).get("question") or "").strip()
        if not title or not question:
            raise ValueError(f"faq_topics.yml: {name} needs a title and a question")
        topics[str(name)] = {"title": title, "question": question}
    return topics


@lru_cache(maxsize=1)
def cached_topics() -> Dict[str, Dict[str, str]]:
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
    topics: Mapping[str, Mapping[str, str]],
    limit: int = 2,
) -> List[Dict[str, str]]:
    """Buttons (title, payload = the topic's question) for the most likely topics that
    content/faq_topics.yml describes."""
    return [
        {"title": topics[topic]["title"], "payload": topics[topic]["question"]}
        for topic in likely_topics(ranking, limit=max(len(ranking), 1))
        if topic in topics
    ][:limit]
