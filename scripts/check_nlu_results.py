"""Fail unless `rasa test nlu` reached the required accuracy on the held-out set.

Reads results/nlu/intent_report.json and response_selection_report.json and prints the
figures, with the misclassified messages, so a failure explains itself.
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
