"""Does one client sending maximum-length messages hold up other patients?

Starts the real action and Rasa servers (as the end-to-end tests do). Phase 1: one
patient sends short messages ("hi", a FAQ question) on an idle server. Phase 2: the
same, while a flooding client sends, back to back on 2 connections, messages of a
million characters (cut by the channel to kat.input_check.MAX_MESSAGE_CHARS) and of
exactly the cap. Prints the patient's p50/p95/max in both phases, their ratio, and how
long each flood message took. Issue 15's goal: the patient's p95 under load stays
under 100 ms. A benchmark, not a test: it asserts nothing; this machine is shared, so
compare the two phases of one run.

The flooding client sends from 127.0.0.2, so with ``--real-limits`` it is another
client than the patient to the rate limiter, as a real one would be.

Usage: .venv/bin/python benchmarks/bench_long_messages.py [--seconds 20] [--real-limits]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_load import percentile  # noqa: E402
from kat.input_check import MAX_MESSAGE_CHARS  # noqa: E402
from tests.e2e.harness import Servers  # noqa: E402

PATIENT_MESSAGES = ["hi", "what are the side effects", "how much does it cost"]


def timed_say_from(servers: Servers, source: str, sender: str, text: str) -> float:
    """Milliseconds for one REST message and its reply, sent from a local address of
    its own (to the rate limiter, each address is one client)."""
    host, port = servers.rasa_url.removeprefix("http://").split(":")
    started = time.perf_counter()
    connection = http.client.HTTPConnection(
        host, int(port), timeout=120, source_address=(source, 0)
    )
    try:
        body = json.dumps({"sender": sender, "message": text})
        connection.request(
            "POST", "/webhooks/rest/webhook", body, {"Content-Type": "application/json"}
        )
        connection.getresponse().read()
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000


def patient_latencies(servers: Servers, seconds: float) -> List[float]:
    """Short messages in conversations of ten, as real visits are (Rasa's cost per
    message grows with the conversation's length)."""
    latencies: List[float] = []
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        if n % 10 == 0:
            sender = f"patient-{uuid.uuid4().hex[:8]}"
        # Patients on their own devices: each conversation from its own address
        # (127.0.0.10-69), every one well inside the shipped rate limits.
        source = f"127.0.0.{10 + (n // 10) % 60}"
        latencies.append(timed_say_from(servers, source, sender, PATIENT_MESSAGES[n % 3]))
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
    parser.add_argument(
        "--real-limits",
        action="store_true",
        help="the shipped rate limits (kat/rate_limit.py); by default none, as if the "
        "flood came from many addresses",
    )
    args = parser.parse_args()
    limits = (
        {"KAT_RATE_MESSAGES_PER_MINUTE": "30", "KAT_RATE_CONVERSATIONS_PER_HOUR": "20"}
        if args.real_limits
        else {}
    )
    with tempfile.TemporaryDirectory() as workdir:
        servers = Servers(workdir=Path(workdir), extra_env=limits)
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
                n = 0
                while not stop.is_set():
                    if n % 10 == 0:
                        sender = f"flood-{uuid.uuid4().hex[:8]}"
                    flood.append(timed_say_from(servers, "127.0.0.2", sender, text))
                    n += 1

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
        f"Long messages (cap {MAX_MESSAGE_CHARS} characters), {args.seconds:.0f} s per "
        f"phase, {'shipped rate limits' if args.real_limits else 'no rate limits'}"
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
