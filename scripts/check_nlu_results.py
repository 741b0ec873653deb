"""Fail unless `rasa test nlu` reached the required accuracy on the held-out set.

Reads results/nlu/intent_report.json and response_selection_report.json and prints the
figures, with the misclassified messages, so a failure explains itself.

An FAQ question that the safety gate marks ``faq_personal`` (asked in the first person:
the same FAQ answer, then "only a clinician can decide for you") is not an intent error:
the patient gets the answer the label asks for. ``rasa test nlu`` counts it as one; the
intent accuracy here does not, and says how many such messages there were.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def accuracy(report_path: Path) -> float:
    report = json.loads(report_path.read_text())
    value = report.get("accuracy")
    if value is None:  # sklearn omits "accuracy" when it equals micro avg
        value = report["micro avg"]["f1-score"]
    return float(value)


# (labelled intent, predicted intent) pairs that give the same answer.
SAME_ANSWER = {("faq", "faq_personal")}


def intent_accuracy(results: Path) -> tuple[float, int]:
    """Intent accuracy with SAME_ANSWER pairs counted as right, and their number."""
    report = json.loads((results / "intent_report.json").read_text())
    total = int(report["weighted avg"]["support"])
    errors = json.loads((results / "intent_errors.json").read_text())
    same = [
        e
        for e in errors
        if (e.get("intent"), (e.get("intent_prediction") or {}).get("name")) in SAME_ANSWER
    ]
    return 1.0 - (len(errors) - len(same)) / max(1, total), len(same)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--min-accuracy", type=float, default=0.90)
    args = parser.parse_args()

    failed = False
    for name in ("intent_report.json", "response_selection_report.json"):
        path = args.results / name
        if not path.exists():
            print(f"missing {path}", file=sys.stderr)
            failed = True
            continue
        value = accuracy(path)
        if name == "intent_report.json" and (args.results / "intent_errors.json").exists():
            raw = value
            value, same = intent_accuracy(args.results)
            print(
                f"{name:36s} rasa's figure {raw:.3f}; {same} first-person FAQ questions got "
                "their FAQ answer with the clinician note (faq_personal): counted as right"
            )
        verdict = "ok" if value >= args.min_accuracy else "BELOW THRESHOLD"
        print(f"{name:36s} accuracy {value:.3f} (min {args.min_accuracy:.2f}) {verdict}")
        failed |= value < args.min_accuracy
    for name in ("intent_errors.json", "response_selection_errors.json"):
        path = args.results / name
        if path.exists():
            errors = json.loads(path.read_text())
            print(f"{name}: {len(errors)} misclassified")
            for error in errors[:40]:
                predicted = error.get("intent_prediction") or error.get("response_prediction")
                print(f"  {error.get('text')!r}: want {error.get('intent') or error.get('intent_response_key_target')}, got {predicted}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
