"""REST round-trip benchmark: prints latency percentiles and resident memory.

Starts the real action server and Rasa server (as the end-to-end tests do), sends a
mixed set of patient messages over the REST channel — FAQ answers, small talk, clinic
facts, and hand-offs that go through the action server — and prints p50/p95/p99 and each
server's resident memory after the load. A benchmark, not a test: it asserts nothing.

Usage: make benchmark        (or: .venv/bin/python benchmarks/bench_rest.py --rounds 20)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_load import percentile, proc_memory_mb  # noqa: E402
from tests.e2e.harness import Servers  # noqa: E402

MESSAGES = [
    "hi",
    "what is ketamine",
    "what are the side effects",
    "is it addictive",
    "how does ketamine help adhd",
    "what are your opening hours",
    "how much does it cost",
    "i want to talk to a person",  # action server
    "thanks",
    "bye",
]


def rss_mb(pid: int) -> float:
    return proc_memory_mb(pid)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="conversations to replay")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        servers = Servers(workdir=Path(workdir))
        try:
            servers.start_actions()
            servers.start_rasa()
            servers.say("warm-up", "hello")
            latencies: list[float] = []
            action_latencies: list[float] = []
            for _ in range(args.rounds):
                sender = f"bench-{uuid.uuid4().hex}"
                for text in MESSAGES:
                    start = time.perf_counter()
                    servers.say(sender, text)
                    elapsed = (time.perf_counter() - start) * 1000
                    latencies.append(elapsed)
                    if "person" in text:
                        action_latencies.append(elapsed)
            rasa_rss = rss_mb(servers.procs["rasa"].pid)
            action_rss = rss_mb(servers.procs["actions"].pid)
        finally:
            servers.stop_all()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"REST round trips: {len(latencies)} messages, one patient at a time")
    print(
        f"  all messages      p50 {percentile(latencies, 50):6.1f} ms   "
        f"p95 {percentile(latencies, 95):6.1f} ms   p99 {percentile(latencies, 99):6.1f} ms   "
        f"mean {statistics.mean(latencies):6.1f} ms"
    )
    print(
        f"  via action server p50 {percentile(action_latencies, 50):6.1f} ms   "
        f"p95 {percentile(action_latencies, 95):6.1f} ms"
    )
    print(
        f"resident memory after load: rasa {rasa_rss:.0f} MB, action server {action_rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
