"""Load benchmark: simulated patients over REST and socket.io at 1, 10 and 50 at once.

Starts the real action server and Rasa server (as the end-to-end tests do, or uses
running ones with --rasa-url), then, for each channel and each concurrency level, runs
closed-loop simulated patients for a fixed time. Each patient plays a realistic mixed
conversation (FAQ questions, clinic facts, a clinical question handed to a person with
the consent form, a contraindication question, now and then a crisis message) with a
new conversation id, and starts another when done (over socket.io: a new web-chat
session on a websocket, as the widget in a browser). With ``--pace 0`` a patient sends
the next message as soon as the reply arrives (the server's saturation point: latency is
then mostly the queue, 50 patients / throughput); with ``--pace 0.45`` each patient sends
at most one message every 0.45 s, so 50 patients offer about 110 messages a second.
Prints throughput, p50/p95/p99
latency (all messages, and those whose reply goes through the action server), errors,
the CPU time each process (and the simulated patients themselves) spent per message,
and each server's resident memory (now and peak).

A benchmark, not a test: it asserts nothing. The issue's targets on a 2-core machine:
one patient p95 <= 40 ms through the action server; 50 at once >= 100 messages/s with
p95 <= 300 ms and no errors; Rasa server resident memory <= 1.0 GB.

With ``--probe`` the servers it starts load benchmarks/probe/sitecustomize.py, and each
level also prints the garbage collector's pauses in the Rasa server and where a web-chat
message's time goes (bytes in -> Engine.IO -> handler -> first reply -> written).

Usage: .venv/bin/python benchmarks/bench_load.py [--seconds 20] [--levels 1,10,50]
                                  [--channels rest,socketio] [--pace 0,0.45] [--probe]
The servers run in the profile of the environment: for the production profile with two
Rasa worker processes (Redis locks make that safe), run
  KAT_PROFILE=production SANIC_WORKERS=2 bash -c 'source scripts/env.sh &&
      .venv/bin/python scripts/ensure_database.py && .venv/bin/python benchmarks/bench_load.py'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import ROOT, Servers  # noqa: E402

# (message, goes through the action server?)
Step = Tuple[str, bool]
CONVERSATIONS: List[Tuple[float, List[Step]]] = [
    (
        0.45,  # reading about the treatment
        [
            ("hi", False),
            ("what is ketamine", False),
            ("how could it help with adhd", False),
            ("what are the side effects", False),
            ("is it addictive", False),
            ("thanks", False),
            ("bye", False),
        ],
    ),
    (
        0.2,  # practical questions
        [
            ("hello", False),
            ("what are your opening hours", False),
            ("how much does it cost", False),
            ("do you take insurance", False),
            ("how do I book a consultation", False),
            ("thank you", False),
        ],
    ),
    (
        0.2,  # a personal clinical question, handed to a person; declines contact
        [
            ("hi", False),
            ("what dose of ketamine should I take?", True),
            ("no thanks", True),
            ("ok thanks", True),  # while the ticket is open, messages go to it
        ],
    ),
    (
        0.13,  # contraindications
        [
            ("who shouldn't have ketamine?", True),
            ("I have high blood pressure, can I do KAT?", True),
            ("thanks", False),
        ],
    ),
    (
        0.02,  # crisis
        [
            ("I don't want to be alive anymore", True),
            ("ok", False),
        ],
    ),
]


@dataclass
class Result:
    latencies: List[float] = field(default_factory=list)
    action_latencies: List[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: Dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


class Pace:
    """When a simulated patient may send: back to back (interval 0), or at most one
    message per ``interval`` seconds — like a person reading the reply and typing the
    next message — starting at a random offset so patients don't send in lockstep.
    A late reply is not made up for: the next message then goes at once."""

    def __init__(self, interval: float, rng: random.Random) -> None:
        self.interval = interval
        self.next_send = time.perf_counter() + rng.uniform(0, interval)

    async def wait(self) -> None:
        if self.interval <= 0:
            return
        now = time.perf_counter()
        if self.next_send > now:
            await asyncio.sleep(self.next_send - now)
        self.next_send = max(now, self.next_send) + self.interval


def pick_conversation(rng: random.Random) -> List[Step]:
    roll, total = rng.random(), 0.0
    for weight, steps in CONVERSATIONS:
        total += weight
        if roll <= total:
            return steps
    return CONVERSATIONS[0][1]


def percentile(values: List[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def proc_memory_mb(pid: int) -> Tuple[float, float]:
    """(resident now, peak resident) in MB from /proc."""
    now = peak = float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            now = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return now, peak


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all cores spent not idle so far (databases and brokers included)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(pids: Dict[str, int]) -> Dict[str, float]:
    """CPU seconds per named process, this benchmark's own (the simulated patients)
    and the whole machine's."""
    snapshot = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
    snapshot["patients"] = time.process_time()
    snapshot["machine"] = machine_busy_seconds()
    return snapshot


def descendants(pid: int) -> List[int]:
    """Child processes (Sanic workers when SANIC_WORKERS > 1), recursively."""
    found: List[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found.extend([child, *descendants(child)])
    return found


async def rest_patient(
    url: str, deadline: float, result: Result, rng: random.Random, pace: Pace
) -> None:
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while time.perf_counter() < deadline:
            sender = f"load-{uuid.uuid4().hex}"
            for text, via_actions in pick_conversation(rng):
                await pace.wait()
                if time.perf_counter() >= deadline:
                    return
                start = time.perf_counter()
                try:
                    async with http.post(
                        f"{url}/webhooks/rest/webhook",
                        json={"sender": sender, "message": text},
                    ) as response:
                        body = await response.json(content_type=None)
                        ok = response.status == 200 and isinstance(body, list) and body
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                    result.error(type(exc).__name__)
                    continue
                elapsed = time.perf_counter() - start
                if not ok:
                    result.error(f"http {response.status} / empty reply")
                    continue
                result.latencies.append(elapsed)
                if via_actions:
                    result.action_latencies.append(elapsed)


class WebSocketChat:
    """The web chat's side of Socket.IO over a websocket, as a browser speaks it.

    python-socketio's own client reaches websockets only through an aiohttp newer than
    the one Rasa 3.6 pins, and long-polling (one HTTP request per poll) costs the server
    far more than a browser's websocket does. This speaks the few frames the widget uses
    (Engine.IO 4 / Socket.IO 5: open, connect, event, ping/pong) with ``websockets``.
    """

    def __init__(self, url: str) -> None:
        self.url = (
            url.replace("http://", "ws://").replace("https://", "wss://")
            + "/socket.io/?EIO=4&transport=websocket"
        )
        self.ws: Any = None
        self.events: asyncio.Queue = asyncio.Queue()
        self.reader: Optional[asyncio.Task] = None

    async def connect(self, timeout: float = 30) -> None:
        import websockets

        self.ws = await asyncio.wait_for(
            websockets.connect(self.url, origin="http://127.0.0.1"), timeout
        )
        opened = await asyncio.wait_for(self.ws.recv(), timeout)
        if not str(opened).startswith("0"):
            raise ConnectionError(f"unexpected Engine.IO open frame {opened!r}")
        await self.ws.send("40")
        self.reader = asyncio.create_task(self._read())
        name, _ = await asyncio.wait_for(self.events.get(), timeout)
        if name != "connect":
            raise ConnectionError(f"namespace not joined: {name}")

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                text = str(frame)
                if text == "2":  # Engine.IO ping -> pong
                    await self.ws.send("3")
                elif text.startswith("40"):
                    self.events.put_nowait(("connect", None))
                elif text.startswith("42"):
                    name, *args = json.loads(text[2:])
                    self.events.put_nowait((name, args[0] if args else None))
        except Exception:  # noqa: BLE001 - the socket closed; waiters time out
            return

    async def start_session(self, timeout: float = 30) -> None:
        """Connect and ask for a new web-chat session, as the widget does on load."""
        await self.connect(timeout)
        await self.emit("session_request", {})
        while (await asyncio.wait_for(self.events.get(), timeout))[
            0
        ] != "session_confirm":
            pass

    async def emit(self, name: str, data: Any) -> None:
        await self.ws.send("42" + json.dumps([name, data]))

    async def close(self) -> None:
        if self.reader:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()


async def socketio_conversation(
    url: str, steps: List[Step], deadline: float, result: Result, pace: Pace
) -> None:
    """One web-chat session playing one conversation."""
    chat = WebSocketChat(url)
    replies: asyncio.Queue = asyncio.Queue()
    try:
        await chat.start_session()
    except Exception as exc:  # noqa: BLE001 - counted, the benchmark goes on
        result.error(f"connect {type(exc).__name__}")
        await chat.close()
        return

    async def collect() -> None:
        while True:
            name, _ = await chat.events.get()
            if name == "bot_uttered":
                replies.put_nowait(time.perf_counter())

    collector = asyncio.create_task(collect())
    try:
        for text, via_actions in steps:
            await pace.wait()
            if time.perf_counter() >= deadline:
                break
            while not replies.empty():
                replies.get_nowait()
            start = time.perf_counter()
            await chat.emit("user_uttered", {"message": text})
            try:
                # Time to the first reply message (later ones follow within ms).
                first = await asyncio.wait_for(replies.get(), 60)
            except asyncio.TimeoutError:
                result.error("no reply")
                continue
            elapsed = first - start
            result.latencies.append(elapsed)
            if via_actions:
                result.action_latencies.append(elapsed)
            while True:  # let the rest of this reply arrive before the next message
                try:
                    await asyncio.wait_for(replies.get(), 0.05)
                except asyncio.TimeoutError:
                    break
    finally:
        collector.cancel()
        await chat.close()


async def socketio_patient(
    url: str, deadline: float, result: Result, rng: random.Random, pace: Pace
) -> None:
    while time.perf_counter() < deadline:
        await socketio_conversation(url, pick_conversation(rng), deadline, result, pace)


QUICK_SUCCESSION = [
    "who shouldn't have ketamine?",  # through the action server
    "I have high blood pressure, can I do KAT?",
    "thanks",
]


async def quick_succession(channel: str, url: str) -> List[float]:
    """A patient sends three messages at once, the first of which needs the action
    server: ms until the first reply to each (Rasa answers them one by one, in order)."""
    start = time.perf_counter()
    if channel == "rest":
        sender = f"quick-{uuid.uuid4().hex}"
        async with aiohttp.ClientSession() as http:

            async def post(text: str, delay: float) -> float:
                await asyncio.sleep(delay)  # sent in this order, a few ms apart
                async with http.post(
                    f"{url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text},
                ) as response:
                    await response.read()
                return 1000 * (time.perf_counter() - start)

            return list(
                await asyncio.gather(
                    *(post(t, 0.005 * i) for i, t in enumerate(QUICK_SUCCESSION))
                )
            )
    chat = WebSocketChat(url)
    await chat.start_session()
    start = time.perf_counter()
    for text in QUICK_SUCCESSION:
        await chat.emit("user_uttered", {"message": text})
    arrivals: List[float] = []
    try:
        while True:  # replies of one turn arrive within a few ms of each other
            name, _ = await asyncio.wait_for(chat.events.get(), 5)
            if name == "bot_uttered":
                arrivals.append(1000 * (time.perf_counter() - start))
    except asyncio.TimeoutError:
        pass
    finally:
        await chat.close()
    turns: List[float] = []
    for arrival in arrivals:
        if not turns or arrival - turns[-1] > 15 and len(turns) < len(QUICK_SUCCESSION):
            turns.append(arrival)
    return turns


async def run_level(
    channel: str, url: str, users: int, seconds: float, seed: int, pace: float = 0.0
) -> Tuple[Result, float]:
    result = Result()
    deadline = time.perf_counter() + seconds
    patient = rest_patient if channel == "rest" else socketio_patient
    start = time.perf_counter()
    rngs = [random.Random(seed + i) for i in range(users)]
    await asyncio.gather(
        *(patient(url, deadline, result, rng, Pace(pace, rng)) for rng in rngs)
    )
    return result, time.perf_counter() - start


def cpu_report(before: Dict[str, float], after: Dict[str, float], messages: int) -> str:
    """CPU milliseconds per message of each process over one level."""
    if not messages:
        return ""
    parts = [
        f"{name} {1000 * (after[name] - before[name]) / messages:.1f}" for name in before
    ]
    return "           CPU ms/msg: " + ", ".join(parts)


class ProbeReader:
    """Summarises what benchmarks/probe/sitecustomize.py wrote since the last call."""

    STAGES = ["in->engine.io", "->handler", "handler->reply", "->written"]

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def report(self) -> str:
        if not self.path.exists():
            return "           probe: nothing recorded"
        with self.path.open() as probe:
            probe.seek(self.offset)
            lines = probe.read().splitlines()
            self.offset = probe.tell()
        pauses: Dict[str, List[float]] = {}
        stages: List[List[float]] = [[] for _ in self.STAGES]
        for line in lines:
            kind, *values = line.split()
            if kind == "gc" and len(values) == 2:
                pauses.setdefault(values[0], []).append(float(values[1]))
            elif kind == "sio" and len(values) == 5:
                times = [float(v) for v in values]
                for i in range(4):
                    stages[i].append(1000 * (times[i + 1] - times[i]))
        gc_part = "; ".join(
            f"gen{gen} {len(ms)}x, max {max(ms):.0f} ms, total {sum(ms):.0f} ms"
            for gen, ms in sorted(pauses.items())
        )
        text = f"           probe: garbage collections {gc_part or 'none'}"
        if stages[0]:
            text += "\n           probe: web-chat message p50/p95 ms: " + ", ".join(
                f"{name} {percentile(ms, 50):.1f}/{percentile(ms, 95):.1f}"
                for name, ms in zip(self.STAGES, stages, strict=True)
            )
        return text


def report(channel: str, users: int, result: Result, wall: float) -> str:
    ms = [x * 1000 for x in result.latencies]
    action_ms = [x * 1000 for x in result.action_latencies]
    rate = len(ms) / wall if wall else 0.0
    return (
        f"{channel:<9}{users:>4}  {len(ms):>6}  {rate:>7.1f}  "
        f"{percentile(ms, 50):>6.0f} {percentile(ms, 95):>6.0f} {percentile(ms, 99):>6.0f}  "
        f"{percentile(action_ms, 50):>6.0f} {percentile(action_ms, 95):>6.0f}  "
        f"{result.errors:>5} {dict(result.error_kinds) if result.errors else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per level")
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--channels", default="rest,socketio")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument(
        "--pace",
        default="0,0.45",
        help="seconds between one patient's messages, comma-separated for several "
        "runs (0: back to back, the server's saturation point; 0.45: 50 patients "
        "offer about 110 msg/s)",
    )
    parser.add_argument("--rasa-url", help="use running servers instead of starting them")
    parser.add_argument(
        "--probe",
        action="store_true",
        help="servers started here record garbage-collector pauses and web-chat stage "
        "times (benchmarks/probe/sitecustomize.py); printed per level",
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]

    servers: Optional[Servers] = None
    tmp = tempfile.TemporaryDirectory()
    probe: Optional[ProbeReader] = None
    if args.rasa_url:
        url = args.rasa_url.rstrip("/")
        if args.probe:
            print("--probe needs servers started by this script; ignored")
    else:
        extra_env = {
            "KAT_WEB_SESSION_SECRET": uuid.uuid4().hex,
            "KAT_WEB_ORIGINS": "http://127.0.0.1",
            # The notification webhook is off: the benchmark measures the assistant.
            "KAT_NOTIFY_URL": "",
        }
        if args.probe:
            probe = ProbeReader(Path(tmp.name) / "probe.txt")
            extra_env["KAT_PROBE_FILE"] = str(probe.path)
            extra_env["PYTHONPATH"] = os.pathsep.join(
                [str(Path(__file__).resolve().parent / "probe"), str(ROOT)]
            )
        servers = Servers(workdir=Path(tmp.name), extra_env=extra_env)
        print("starting the action server and the Rasa server ...", flush=True)
        servers.start_actions()
        servers.start_rasa()
        url = servers.rasa_url
    try:
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {platform.platform()}"
        )
        asyncio.run(run_level(channels[0], url, 2, args.warmup, seed=999))
        if probe:
            probe.report()  # start-up and warm-up are not part of any level
        print(
            f"\n{'channel':<9}{'users':>4}  {'msgs':>6}  {'msg/s':>7}  "
            f"{'p50':>6} {'p95':>6} {'p99':>6}  {'act50':>6} {'act95':>6}  errors"
        )
        print("-" * 86)
        pids: Dict[str, int] = {}
        if servers:
            for name, proc in servers.procs.items():
                for pid in [proc.pid, *descendants(proc.pid)]:
                    pids[name if pid == proc.pid else f"{name}-{pid}"] = pid
        for pace in [float(x) for x in args.pace.split(",")]:
            if pace > 0:
                print(f"-- each patient sends at most one message per {pace:g} s")
            else:
                print("-- each patient sends the next message as soon as answered")
            for channel in channels:
                for users in levels:
                    before = cpu_snapshot(pids)
                    result, wall = asyncio.run(
                        run_level(channel, url, users, args.seconds, users, pace)
                    )
                    print(report(channel, users, result, wall), flush=True)
                    print(cpu_report(before, cpu_snapshot(pids), len(result.latencies)))
                    if probe:
                        print(probe.report(), flush=True)
        print(
            "(latencies in ms; act = messages whose reply goes through the action server)"
        )
        for channel in channels:
            times = asyncio.run(quick_succession(channel, url))
            print(
                f"{channel}: three messages sent at once (the first needs the action "
                "server): replies after " + " / ".join(f"{t:.0f}" for t in times) + " ms"
            )
        if servers:
            print()
            for name, proc in servers.procs.items():
                for pid in [proc.pid, *descendants(proc.pid)]:
                    now, peak = proc_memory_mb(pid)
                    label = name if pid == proc.pid else f"  {name} worker {pid}"
                    print(f"{label:<22} resident {now:7.0f} MB   peak {peak:7.0f} MB")
    finally:
        if servers:
            servers.stop_all()
        tmp.cleanup()


if __name__ == "__main__":
    main()
