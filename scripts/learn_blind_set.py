"""Turn a blind set whose first contact is recorded into training data.

    .venv/bin/python scripts/learn_blind_set.py tests/understanding/blind_r5.yml \
        data/nlu/blind_r5_learned.yml

Only after its first-contact figures are in docs/understanding.md: from then on the set
measures memory. Its single messages become examples of the intent each behaviour
should get (``LABEL_INTENTS``); conversation turns, other languages and "not a crisis"
items are left out (their right reply depends on context, on the patterns or on no one
label), and so are texts already in data/nlu/, markup or noise the safety gate answers
before any classifier (kat/input_check.py), and messages in other languages than
``--language`` (English by default). Sets
``meta.learned_from: true`` in the blind set. Needs a retrain (make train).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Set

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kat.input_check import EMPTY, NOISE, OTHER_LANGUAGE, default_checker  # noqa: E402
from kat.nlu_examples import blind_set_items, nlu_examples  # noqa: E402

# A behaviour label of tests/understanding/BEHAVIOURS.md -> the intent that gives it.
LABEL_INTENTS = {
    "contraindication": "ask_contraindications",
    "clinical": "clinical_question",
    "crisis": "crisis",
    "misuse": "misuse_request",
    "not_covered": "not_covered",
    "request_human": "request_human",
    "everyday": "out_of_scope",
    "injection": "out_of_scope",
}
KIND_INTENTS = {
    "contact": "ask_contact",
    "booking": "ask_booking",
    "hours": "ask_hours",
    "cost": "ask_cost",
    "insurance": "ask_insurance",
}


def intent_for(
    item: Dict, language: str = "en", set_language: str = "en"
) -> Optional[str]:
    """The intent a labelled item teaches, or None; an item without ``lang`` is in
    its set's language (``meta.language``, English by default)."""
    expect = item.get("expect")
    if (item.get("lang") or set_language) != language:
        return None
    if expect in ("faq", "faq_personal") and item.get("topic"):
        return f"faq/{item['topic']}"  # the gate adds "only a clinician can decide"
    if expect == "smalltalk":
        return item.get("kind")  # greet, goodbye, thanks, bot_challenge, affirm, deny
    if expect == "clinic_info":
        return KIND_INTENTS.get(str(item.get("kind")))
    return LABEL_INTENTS.get(str(expect))


def not_learnable_as(text: str, language: str) -> bool:
    """Markup and noise, which never reach the classifier (the safety gate answers
    them), or an unlabelled message of an English set in another language (round 11's
    writer put a Spanish injection, without ``lang``, in the English set): neither may
    become an example (tests/test_input_check.py reads every English example)."""
    kind = default_checker().check(text).kind
    return kind in (EMPTY, NOISE) or (language == "en" and kind == OTHER_LANGUAGE)


def mark_learned(source: str) -> str:
    """The blind set's text with ``meta.learned_from: true``: the writer's own
    ``learned_from: false`` flipped, or the key added to a one-line meta."""
    if "learned_from: false" in source:
        return source.replace("learned_from: false", "learned_from: true", 1)
    meta_line = re.compile(r"^meta: \{(.*)\}$", re.M)
    if "learned_from" not in source and meta_line.search(source):
        return meta_line.sub(r"meta: {\1, learned_from: true}", source, count=1)
    return source


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def held_out_texts(learning: Path) -> Set[str]:
    """What must never become training data: the held-out NLU sets, the everyday test
    set and every blind set not learned from yet (other writers coincide now and then:
    "does it mess with ur mood right after")."""
    texts: Set[str] = set()
    for path in (ROOT / "tests" / "nlu").glob("*.yml"):
        texts |= {_key(t) for t in nlu_examples(path)}
    here = ROOT / "tests" / "understanding"
    for path in here.glob("blind_*.yml"):
        data = yaml.safe_load(path.read_text()) or {}
        if path.resolve() == learning.resolve() or (data.get("meta") or {}).get(
            "learned_from"
        ):
            continue
        texts |= {_key(str(i.get("text") or "")) for i in blind_set_items(data)}
    everyday = here / "everyday_test.txt"
    if everyday.exists():
        texts |= {_key(line) for line in everyday.read_text().splitlines() if line}
    return texts


def known_texts(skip: Path) -> Set[str]:
    texts: Set[str] = set()
    for path in (ROOT / "data" / "nlu").rglob("*.yml"):
        if path.resolve() == skip.resolve():
            continue
        texts |= {_key(t) for t in nlu_examples(path)}
    return texts


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("blind_set", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument(
        "--language", default="en", help="the messages to learn (lang: of the set)"
    )
    args = parser.parse_args(argv)
    data = yaml.safe_load(args.blind_set.read_text())
    known = known_texts(args.output) | held_out_texts(args.blind_set)
    by_intent: Dict[str, List[str]] = defaultdict(list)
    set_language = str((data.get("meta") or {}).get("language") or "en")
    for item in data.get("messages") or []:
        intent = intent_for(item, args.language, set_language)
        text = " ".join(str(item.get("text") or "").split())
        skip = not_learnable_as(text, args.language)
        if intent and text and not skip and _key(text) not in known:
            known.add(_key(text))
            by_intent[intent].append(text)
    round_name = args.blind_set.stem
    lines = [
        f"# Blind set {round_name} (tests/understanding/{args.blind_set.name}), learned",
        "# from after its first contact (docs/understanding.md), by",
        f"# scripts/learn_blind_set.py: its single messages in {args.language!r} as training",
        "# examples,",
        "# under the label of the behaviour each should get. Figures on it since are",
        "# memory, not understanding. Needs a retrain.",
        'version: "3.1"',
        "nlu:",
    ]
    for intent in sorted(by_intent):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in by_intent[intent])
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = args.blind_set.read_text()
    marked = mark_learned(source)
    if marked != source:
        args.blind_set.write_text(marked, encoding="utf-8")
    total = sum(len(v) for v in by_intent.values())
    print(f"{total} examples under {len(by_intent)} intents -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
