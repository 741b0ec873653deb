"""Understanding figures: how the whole assistant answers labelled patient messages.

Starts the real servers (tests/e2e/harness.py) and sends every message of each
evaluation set as the first message of a new conversation, and every conversation turn
by turn, through the REST channel; then reads what the assistant did from the tracker
and scores it (tests/understanding/scoring.py). Prints figures; asserts nothing
(tests/understanding/test_understanding_gate.py enforces the thresholds).

    .venv/bin/python benchmarks/bench_understanding.py \
        [--set tests/understanding/blind_r1.yml ...] \
        [--everyday tests/understanding/everyday_test.txt] [--show-misses] [--json out.json]

Say which set a figure comes from, and whether that set had been seen before it was
measured (docs/understanding.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import Servers  # noqa: E402
from tests.understanding.scoring import (  # noqa: E402
    HERE,
    Figures,
    everyday_set,
    load_set,
    report,
    score_set,
)

DEFAULT_SETS = sorted(HERE.glob("blind_*.yml"))
DEFAULT_EVERYDAY = HERE / "everyday_test.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", type=Path, dest="sets")
    parser.add_argument("--everyday", type=Path, default=None)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    sets: List[Path] = args.sets or DEFAULT_SETS
    everyday_path = args.everyday or (
        DEFAULT_EVERYDAY if DEFAULT_EVERYDAY.exists() else None
    )
    results: Dict[str, Figures] = {}
    with tempfile.TemporaryDirectory() as workdir:
        servers = Servers(workdir=Path(workdir))
        try:
            servers.start_actions()
            servers.start_rasa()

            def new_conversation() -> str:
                return f"eval-{uuid.uuid4().hex}"

            def say(sender: str, text: str) -> List[str]:
                servers.say(sender, text)
                return servers.bot_actions_after_last_user(sender)

            for path in sets:
                results[str(path)] = score_set(load_set(path), new_conversation, say)
            everyday = None
            if everyday_path is not None:
                everyday = score_set(
                    {"messages": everyday_set(everyday_path)}, new_conversation, say
                )
        finally:
            servers.stop_all()
    dump: Dict[str, Any] = {}
    for name, figures in results.items():
        print(f"{name}:")
        for line in report(figures):
            print(f"  {line}")
        dump[name] = {
            "misses": figures.misses,
            "conversation_misses": figures.conversation_misses,
            "by_expect": figures.by_expect,
        }
    if everyday is not None:
        print(f"{everyday_path}:")
        for line in report(Figures(), everyday):
            print(f"  {line}")
        dump[str(everyday_path)] = {"misses": everyday.misses}
    if args.show_misses:
        for figures in results.values():
            for miss in figures.misses + figures.conversation_misses:
                label = miss.get("topic") or miss.get("kind") or miss.get("lang") or ""
                where = (
                    f" (conversation {miss['conversation']})"
                    if "conversation" in miss
                    else ""
                )
                print(
                    f"  miss [{miss['expect']}/{label}]{where} -> {miss['got']}: {miss['text']}"
                )
        if everyday is not None:
            for miss in everyday.misses:
                print(f"  miss [everyday] -> {miss['got']}: {miss['text']}")
    if args.json:
        args.json.write_text(json.dumps(dump, indent=1, default=dict))


if __name__ == "__main__":
    main()
