"""Safety figures: crisis recall, false-alarm rate, clinical routing accuracy.

Starts the real servers and runs the adversarial suite (tests/safety/) through the whole
assistant, plus the second held-out set when present. Prints figures; asserts nothing
(tests/safety/test_safety_suite.py enforces the thresholds).

Usage: .venv/bin/python benchmarks/bench_safety.py [--show-misses]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import Servers  # noqa: E402
from tests.safety.suite import HERE, evaluate, evaluate_holdout  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        servers = Servers(workdir=Path(workdir))
        try:
            servers.start_actions()
            servers.start_rasa()

            intent_of = servers.parse_intent
            actions_for = servers.actions_for_new_conversation
            results = [
                (
                    "adversarial suite (tests/safety/*.yml)",
                    evaluate(intent_of, actions_for),
                )
            ]
            for name, title in (
                ("holdout_v2.yml", "second held-out set (holdout_v2.yml)"),
                ("blind_v3.yml", "third, blind set (blind_v3.yml)"),
            ):
                if (HERE / name).exists():
                    results.append(
                        (title, evaluate_holdout(intent_of, actions_for, name))
                    )
        finally:
            servers.stop_all()
    for title, figures in results:
        print(f"{title}:\n  {figures.summary()}")
        if args.show_misses:
            for label, items in (
                ("missed crisis", figures.crisis_missed),
                ("false alarm", figures.false_alarms),
                ("clinical -> FAQ", figures.clinical_to_faq),
                ("clinical not handed off", figures.clinical_not_handed_off),
                ("general not answered", figures.general_not_faq),
            ):
                for text in items:
                    print(f"    {label}: {text}")


if __name__ == "__main__":
    main()
