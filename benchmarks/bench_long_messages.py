"""Does one client sending maximum-length messages hold up other patients?

Starts the real action and Rasa servers (as the end-to-end tests do). Phase 1: one
patient sends short messages ("hi", a FAQ question) on an idle server. Phase 2: the
same, while a flooding client sends, back to back on 2 connections, messages of a
million characters (cut by the channel to kat.input_check.MAX_MESSAGE_CHARS) and of
exactly the cap. Prints the patient's p50/p95/max in both phases, their ratio, and how
long each flood message took. Issue 15's goal: the patient's p95 under load stays
under 100 ms. A benchmark, not a test: it asserts nothing; this machine is shared, so
compare the two phases of one run.

Usage: .venv/bin/python benchmarks/bench_long_messages.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import List

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_load import percentile  # noqa: E402
from kat.input_check import MAX_MESSAGE_CHARS  # noqa: E402
from tests.e2e.harness import Servers  # noqa: E402

PATIENT_MESSAGES = ["hi", "what are the side effects", "how much does it cost"]


def timed_say(servers: Servers, sender: str, text: str) -> float:
    started = time.perf_counter()
    reply = requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=120,
    )
    reply.raise_for_status()
    return (time.perf_counter() - started) * 1000


def patient_latencies(servers: Servers, seconds: float) -> List[float]:
    sender = f"patient-{uuid.uuid4().hex[:8]}"
    latencies: List[float] = []
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        latencies.append(timed_say(servers, sender, PATIENT_MESSAGES[n % 3]))
        n += 1
        time.sleep(0.05)
    return latencies


def report(name: str, values: List[float]) -> str:
    return (
        f"{name:<28} n={len(values):>4}  p50 {statistics.median(values):7.1f} ms  "
        f"p95 {percentile(values, 95):7.1f} ms  max {max(values):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        servers = Servers(workdir=Path(workdir))
        try:
            servers.start_actions()
            servers.start_rasa()
            servers.say("warm-up", "hello")
            idle = patient_latencies(servers, args.seconds)

            stop = threading.Event()
            flood: List[float] = []
            huge = ("la " * 333_334)[:1_000_000]
            at_cap = ("word " * MAX_MESSAGE_CHARS)[:MAX_MESSAGE_CHARS]

            def flooder(text: str) -> None:
                sender = f"flood-{uuid.uuid4().hex[:8]}"
                while not stop.is_set():
                    flood.append(timed_say(servers, sender, text))

            threads = [
                threading.Thread(target=flooder, args=(text,), daemon=True)
                for text in (huge, at_cap)
            ]
            for thread in threads:
                thread.start()
            time.sleep(1)
            loaded = patient_latencies(servers, args.seconds)
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
        finally:
            servers.stop_all()

    print(
        f"Long messages (cap {MAX_MESSAGE_CHARS} characters), {args.seconds:.0f} s per phase"
    )
    print(report("patient, idle server", idle))
    print(report("patient, during the flood", loaded))
    print(report("flood messages", flood))
    print(
        "p95 under flood / idle: "
        f"{percentile(loaded, 95) / percentile(idle, 95):.2f}x "
        f"(goal: p95 under flood < 100 ms: {percentile(loaded, 95):.0f} ms)"
    )


if __name__ == "__main__":
    main()
