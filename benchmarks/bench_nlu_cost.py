"""What the NLU costs per message: this tree's pipeline against an earlier commit's.

    .venv/bin/python benchmarks/bench_nlu_cost.py [--baseline abf3725] [--rounds 3]

Parses the same messages (blind set r1 and the everyday set, about 1,500) with the
trained model of this tree and with a model trained from the baseline commit's code and
data (checked out once into build/bench/baseline as a git worktree, trained once there),
each in its own process (both define components/linear_nlu.py), alternating the two
for ``--rounds`` rounds so that the shared machine's noise falls on both. Prints the
CPU milliseconds per message of the whole NLU graph (spaCy, entities, classifier,
fallback, safety gate) for each, and the difference. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "build" / "bench"

MEASURE = r"""
import asyncio, json, sys, time
from rasa.core.agent import Agent
texts = json.load(open(sys.argv[2]))
async def main():
    agent = Agent.load(sys.argv[1])
    for text in texts[:50]:
        await agent.parse_message(text)  # warm up
    start = time.process_time()
    for text in texts:
        await agent.parse_message(text)
    print(json.dumps({"cpu_ms": 1000 * (time.process_time() - start) / len(texts)}))
asyncio.run(main())
"""


def messages() -> List[str]:
    sys.path.insert(0, str(ROOT))
    from tests.understanding.scoring import HERE, everyday_set, load_set

    texts = [m["text"] for m in load_set(HERE / "blind_r1.yml")["messages"]]
    texts += [m["text"] for m in everyday_set(HERE / "everyday_test.txt")]
    return texts


def baseline_model(commit: str) -> Path:
    tree = BENCH / "baseline"
    model = tree / "models" / "baseline.tar.gz"
    if model.exists() and (tree / ".commit").read_text().strip() == commit:
        return model
    if tree.exists():
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
    BENCH.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True
    )
    (tree / "build").mkdir(exist_ok=True)
    spacy_link = tree / "build" / "spacy"
    if not spacy_link.exists():
        spacy_link.symlink_to(ROOT / "build" / "spacy")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    rasa = Path(sys.executable).with_name("rasa")
    subprocess.run(
        [
            str(rasa),
            "train",
            "--fixed-model-name",
            "baseline",
            "--out",
            "models",
            "--quiet",
        ],
        cwd=tree,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (tree / ".commit").write_text(commit)
    return model


def measure(model: Path, code_root: Path, texts_file: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(code_root), "LOG_LEVEL": "WARNING"}
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(model), str(texts_file)],
        cwd=code_root,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["cpu_ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="abf3725")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    BENCH.mkdir(parents=True, exist_ok=True)
    texts_file = BENCH / "messages.json"
    texts_file.write_text(json.dumps(messages()))
    base = baseline_model(args.baseline)
    ours = ROOT / "models" / "kat-assistant.tar.gz"
    figures: Dict[str, List[float]] = {"baseline": [], "this tree": []}
    for _ in range(args.rounds):
        figures["baseline"].append(measure(base, BENCH / "baseline", texts_file))
        figures["this tree"].append(measure(ours, ROOT, texts_file))
    n = len(json.loads(texts_file.read_text()))
    print(f"NLU CPU per message over {n} messages, {args.rounds} alternating rounds:")
    for name, values in figures.items():
        print(
            f"  {name}: median {statistics.median(values):.2f} ms ({', '.join(f'{v:.2f}' for v in values)})"
        )
    diffs = [
        b - a for a, b in zip(figures["baseline"], figures["this tree"], strict=True)
    ]
    print(f"  added by this tree: median {statistics.median(diffs):+.2f} ms per message")


if __name__ == "__main__":
    main()
