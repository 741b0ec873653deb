"""Which features understand patients best: the classifier alone, on labelled sets.

Trains the intent + FAQ-topic classifier (kat/text_features.py with the same logistic
regression as components/linear_nlu.py) on data/nlu/ with several feature mixes and
prints, for each evaluation set, the share of messages whose label it names (FAQ topics,
intents; everyday requests as out_of_scope), and for FAQ questions the share it answers
at a given topic confidence and how many of those are right. No servers, no Rasa
pipeline: a quick way to compare features. Whole-assistant figures come from
benchmarks/bench_understanding.py.

    .venv/bin/python benchmarks/bench_nlu_features.py [--set PATH ...] [--everyday PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kat.text_features import Embedder, FeatureWeights, TextFeatures  # noqa: E402
from tests.understanding.scoring import HERE, everyday_set, load_set  # noqa: E402

LABEL_OF = {
    "not_covered": "not_covered",
    "contraindication": "ask_contraindications",
    "clinical": "clinical_question",
    "crisis": "crisis",
    "misuse": "misuse_request",
    "request_human": "request_human",
    "everyday": "out_of_scope",
    "injection": "out_of_scope",
}
VARIANTS = {
    "n-grams only": FeatureWeights(1.0, 1.0, 0.0),
    "n-grams + 0.5 x meaning": FeatureWeights(1.0, 1.0, 0.5),
    "n-grams + 1 x meaning": FeatureWeights(1.0, 1.0, 1.0),
    "n-grams + 1.5 x meaning": FeatureWeights(1.0, 1.0, 1.5),
}


def expected_label(item: Dict) -> Optional[str]:
    expect = item["expect"]
    if expect in ("faq", "faq_personal"):
        return f"faq/{item['topic']}"
    if expect == "smalltalk":
        return item["kind"]
    if expect == "clinic_info":
        return f"ask_{item['kind']}"
    if expect == "crisis" and item.get("lang"):
        return None  # other languages are the patterns' job
    return LABEL_OF.get(expect)


def training_pairs() -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    pairs = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for m in load_data(str(path)).intent_examples:
            label = (
                m.get("intent_response_key")
                if m.get("intent") == "faq"
                else m.get("intent")
            )
            if m.get("text") and label:
                pairs.append((m.get("text"), label))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", type=Path, dest="sets")
    parser.add_argument("--everyday", type=Path, default=HERE / "everyday_test.txt")
    parser.add_argument("--C", type=float, default=20.0)
    parser.add_argument("--topic-confidence", type=float, default=0.5)
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    sets: Dict[str, List[Dict]] = {}
    for path in args.sets or sorted(HERE.glob("blind_*.yml")):
        sets[str(path)] = list(load_set(path).get("messages") or [])
    if args.everyday and args.everyday.exists():
        sets[str(args.everyday)] = everyday_set(args.everyday)
    pairs = training_pairs()
    texts = [t for t, _ in pairs]
    labels = [label for _, label in pairs]
    print(f"training examples: {len(pairs)} ({len(set(labels))} labels)")
    embedder = Embedder.from_dir()
    for name, weights in VARIANTS.items():
        started = time.monotonic()
        features = TextFeatures(embedder, weights).fit(texts)
        model = LogisticRegression(C=args.C, max_iter=2000, class_weight="balanced")
        model.fit(features.transform(texts), labels)
        classes = list(model.classes_)
        faq = np.array([c.startswith("faq/") for c in classes])
        print(f"\n{name} (trained in {time.monotonic() - started:.0f} s)")
        for set_name, items in sets.items():
            gold = [(i["text"], expected_label(i)) for i in items]
            gold = [(t, g) for t, g in gold if g]
            probs = model.predict_proba(features.transform([t for t, _ in gold]))
            right = Counter()
            total = Counter()
            answered = answered_right = faq_total = 0
            for (_text, g), p in zip(gold, probs, strict=True):
                kind = "faq" if g.startswith("faq/") else g
                total[kind] += 1
                right[kind] += classes[int(np.argmax(p))] == g
                if g.startswith("faq/"):
                    faq_total += 1
                    mass = p[faq].sum()
                    best = int(np.argmax(np.where(faq, p, -1)))
                    if (
                        classes[int(np.argmax(p))].startswith("faq/")
                        and p[best] / mass >= args.topic_confidence
                    ):
                        answered += 1
                        answered_right += classes[best] == g
            summary = ", ".join(
                f"{k} {right[k]}/{total[k]}"
                for k in sorted(total, key=lambda k: -total[k])
            )
            print(f"  {Path(set_name).name}: {summary}")
            if faq_total:
                print(
                    f"    FAQ answered at topic confidence >= {args.topic_confidence}: "
                    f"{answered}/{faq_total}, right {answered_right}"
                )


if __name__ == "__main__":
    main()
