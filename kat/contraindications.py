"""Contraindication answers from the reviewed knowledge file (content/contraindications.yml).

Pure: takes the medical mentions the NLU found (canonical id, label, role) and composes
what the assistant says. It never says anyone is eligible or safe; a listed condition
gets the sheet's wording and a recommendation to talk to a clinician, anything else
"not on the general list — a clinician must review", and every answer ends with "only a
clinician can decide, after a full screening".

In a Spanish conversation (``language="es"``) every sentence comes from the file's
``es:`` block (translation, needs clinical review), with the same keys; a key it lacks
falls back to the English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import yaml

from kat.paths import content_dir

SELF = "self"
KETAMINE = "ketamine"


@dataclass(frozen=True)
class Mention:
    canonical_id: str
    label: str = "CONDITION"
    role: str = SELF


@dataclass
class ContraindicationAnswer:
    text: str
    listed: List[str] = field(default_factory=list)
    not_listed: List[str] = field(default_factory=list)
    ignored: List[str] = field(default_factory=list)
    ask_which: bool = False
    recommend_handoff: bool = False


def _clean(text: str) -> str:
    return " ".join(str(text).split())


class ContraindicationKnowledge:
    def __init__(self, config: Dict[str, Any]) -> None:
        self.config = config
        self.listed: Dict[str, Dict[str, Any]] = config["listed"]
        self.condition_to_category = {
            condition: category
            for category, spec in self.listed.items()
            for condition in spec["conditions"]
        }
        self.not_listed_names: Dict[str, str] = config["not_listed"]["names"]
        self.minor_res = [re.compile(p) for p in config.get("minor_patterns", [])]

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> ContraindicationKnowledge:
        path = path or content_dir() / "contraindications.yml"
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle))

    def mentions_minor(self, text: str) -> bool:
        lowered = (text or "").lower()
        return any(regex.search(lowered) for regex in self.minor_res)

    def texts(self, language: str = "en") -> Dict[str, Any]:
        """The wording in ``language``: English, overlaid with the ``<language>:``
        block key by key (listed, not_listed and wording one level deeper)."""
        english = {
            "listed": self.listed,
            "not_listed": self.config["not_listed"],
            "general_list": self.config["general_list"],
            "always": self.config["always"],
            "wording": self.config["wording"],
        }
        own = self.config.get(language) if language != "en" else None
        if not isinstance(own, dict):
            return english
        merged: Dict[str, Any] = dict(english)
        for key, value in own.items():
            if isinstance(value, dict) and isinstance(english.get(key), dict):
                inner = dict(english[key])
                for name, item in value.items():
                    base = inner.get(name)
                    inner[name] = (
                        {**base, **item}
                        if isinstance(base, dict) and isinstance(item, dict)
                        else item
                    )
                merged[key] = inner
            else:
                merged[key] = value
        return merged

    def _name(self, canonical_id: str, texts: Optional[Dict[str, Any]] = None) -> str:
        texts = texts or self.texts()
        category = self.condition_to_category.get(canonical_id)
        if category:
            return str(texts["listed"][category]["name"])
        names: Dict[str, str] = texts["not_listed"].get("names") or {}
        return names.get(
            canonical_id,
            self.not_listed_names.get(
                canonical_id, canonical_id.replace("_", " ").capitalize()
            ),
        )

    def answer(
        self,
        mentions: Iterable[Mention],
        personal: bool,
        minor: bool = False,
        language: str = "en",
    ) -> ContraindicationAnswer:
        texts = self.texts(language)
        wording = texts["wording"]
        listed: List[str] = []
        not_listed: List[str] = []
        ignored: List[str] = []
        for mention in mentions:
            condition = self._as_condition(mention)
            if condition is None:
                continue
            if mention.role != SELF:
                ignored.append(condition)
                continue
            category = self.condition_to_category.get(condition)
            bucket = listed if category else not_listed
            key = category or condition
            if key not in bucket:
                bucket.append(key)
        if minor and "minor" not in not_listed:
            not_listed.append("minor")

        paragraphs: List[str] = []
        for category in listed:
            paragraphs.append(_clean(texts["listed"][category]["wording"]))
        for condition in not_listed:
            template = _clean(texts["not_listed"]["wording"])
            paragraphs.append(template.format(name=self._name(condition, texts)))
        if ignored:
            names = ", ".join(sorted({self._name(c, texts).lower() for c in ignored}))
            paragraphs.append(_clean(wording["ignored"]).format(names=names))

        ask_which = not listed and not not_listed and not ignored and personal
        if ask_which:
            return ContraindicationAnswer(_clean(wording["ask_which"]), ask_which=True)
        if not listed and not not_listed:
            paragraphs.insert(0, str(texts["general_list"]).strip())
        paragraphs.append(_clean(texts["always"]))
        recommend = bool(listed)
        paragraphs.append(
            _clean(wording["recommend_handoff" if recommend else "offer_handoff"])
        )
        return ContraindicationAnswer(
            "\n\n".join(paragraphs), listed, not_listed, ignored, False, recommend
        )

    def _as_condition(self, mention: Mention) -> Optional[str]:
        if mention.label == "CONDITION":
            return mention.canonical_id
        if mention.label == "SUBSTANCE" and mention.canonical_id != KETAMINE:
            return "substance_use"
        return None


@lru_cache(maxsize=1)
def default_knowledge() -> ContraindicationKnowledge:
    return ContraindicationKnowledge.from_file()
