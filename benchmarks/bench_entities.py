"""Medical-term extraction figures on the held-out entity set (tests/entities/).

Prints precision and recall for the terms (label + canonical id) and for terms with
their role (self / negated / other). A benchmark: it asserts nothing.

Usage: .venv/bin/python benchmarks/bench_entities.py [--show-errors]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.entities.scoring import load_messages, score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    messages = load_messages()
    print(f"held-out entity set: {len(messages)} messages")
    for title, with_roles in (("terms", False), ("terms with roles", True)):
        scores = score(messages, with_roles)
        print("  " + scores.line(title))
        if args.show_errors:
            for error in scores.errors:
                print("    " + error)


if __name__ == "__main__":
    main()
