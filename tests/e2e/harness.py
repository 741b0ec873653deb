"""Start the real action server and Rasa server on free ports, for end-to-end tests.

Nothing is faked: the trained model in models/, the project's endpoints and credentials,
real HTTP. Each server gets its own SQLite tracker file in a temporary folder.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import requests
import socketio
import yaml

from kat import conversation_id as ids
from kat.api_token import auth_header, mint

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# KAT_MODEL: another trained model (a benchmark comparing two); by default make's own.
MODEL = Path(os.environ.get("KAT_MODEL") or ROOT / "models" / "kat-assistant.tar.gz")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(url: str, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"process exited with {proc.returncode} before {url} was up"
            )
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} not up after {timeout}s")


@dataclass
class Servers:
    workdir: Path
    # Rasa's HTTP API takes short-lived JWTs signed with this (never ?token=).
    jwt_secret: str = "e2e-test-jwt-secret-0123456789abcdef0123456789"
    action_token: str = "e2e-test-action-server-token"
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    procs: Dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: Dict[str, Path] = field(default_factory=dict)
    # None: the project's credentials.yml with only the channels whose variables are set
    # (as `make run` does), which here means the REST channel.
    credentials: Optional[str] = None
    extra_env: Dict[str, str] = field(default_factory=dict)
    inbox_port: int = field(default_factory=free_port)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    @property
    def token(self) -> str:
        """A fresh JWT for Rasa's HTTP API (send as ``Authorization: Bearer``)."""
        return mint(self.jwt_secret, username="e2e")

    def api_headers(self) -> Dict[str, str]:
        return auth_header(self.jwt_secret, username="e2e")

    @property
    def endpoints(self) -> str:
        """The profile's endpoints file (KAT_PROFILE=production, as in scripts/env.sh)."""
        if self.env().get("KAT_PROFILE") == "production":
            return "endpoints.production.yml"
        return "endpoints.yml"

    def env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "3",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "PYTHONPATH": str(ROOT),
                "ACTION_SERVER_URL": f"{self.action_url}/webhook",
                "KAT_TRACKER_DB": str(self.workdir / "tracker.db"),
                "KAT_VAR_DIR": str(self.workdir),
                "KAT_HANDOFF_DB_URL": f"sqlite:///{self.workdir / 'handoff.db'}",
                "RASA_URL": self.rasa_url,
                "RASA_JWT_SECRET": self.jwt_secret,
                "KAT_ACTION_SERVER_TOKEN": self.action_token,
                # Every test talks from 127.0.0.1, so one client to the rate limiter;
                # tests/e2e/test_isolation_e2e.py sets the real limits.
                "KAT_RATE_MESSAGES_PER_MINUTE": "1000000",
                "KAT_RATE_CONVERSATIONS_PER_HOUR": "1000000",
            }
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        log = self.workdir / f"{name}.log"
        self.logs[name] = log
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env(),
            stdout=open(log, "wb"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
        )
        self.procs[name] = proc
        return proc

    def _spawn_actions(self) -> subprocess.Popen:
        return self._spawn(
            "actions",
            [
                str(VENV_BIN / "python"),
                "-m",
                "actions.server",
                "--port",
                str(self.action_port),
            ],
        )

    def start_actions(self) -> None:
        wait_until(f"{self.action_url}/health", 90, self._spawn_actions())

    def start(self) -> None:
        """The action server and Rasa, spawned together so that their start-ups
        overlap (CI has two cores), then each waited for: what a module's
        ``start_actions()`` then ``start_rasa()`` did, in less time."""
        actions = self._spawn_actions()
        rasa = self._spawn_rasa()
        wait_until(f"{self.action_url}/health", 90, actions)
        self._wait_for_rasa(rasa)

    def _credentials_file(self) -> str:
        if self.credentials:
            return self.credentials
        sys.path.insert(0, str(ROOT / "scripts"))
        from make_credentials import active_channels

        template = yaml.safe_load((ROOT / "credentials.yml").read_text())
        kept, _ = active_channels(template, self.env())
        path = self.workdir / "credentials.yml"
        path.write_text(yaml.safe_dump(kept))
        return str(path)

    def start_rasa(self) -> None:
        self._wait_for_rasa(self._spawn_rasa())

    def _spawn_rasa(self) -> subprocess.Popen:
        return self._spawn(
            "rasa",
            [
                # As scripts/run.sh: the HTTP API's JWT secret comes from RASA_JWT_SECRET
                # (env()), never from the command line.
                str(VENV_BIN / "python"),
                str(ROOT / "scripts" / "rasa_run.py"),
                "run",
                "--model",
                str(MODEL),
                "--endpoints",
                self.endpoints,
                "--credentials",
                self._credentials_file(),
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
                *self.cors_args(),
                *self.logging_args(),
            ],
        )

    def _wait_for_rasa(self, proc: subprocess.Popen) -> None:
        wait_until(f"{self.rasa_url}/webhooks/rest/", 240, proc)
        # /webhooks/rest/ answers before the model is loaded; wait for the model too.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            status = requests.get(
                f"{self.rasa_url}/status", headers=self.api_headers(), timeout=10
            )
            if status.ok and status.json().get("model_file"):
                return
            time.sleep(0.5)
        raise TimeoutError("model not loaded")

    def cors_args(self) -> List[str]:
        """``--cors`` with the origins in KAT_CORS_ORIGINS (as scripts/run.sh does)."""
        origins = self.env().get("KAT_CORS_ORIGINS", "").split()
        return ["--cors", *origins] if origins else []

    def logging_args(self) -> List[str]:
        return ["--logging-config-file", str(ROOT / "logging.yml")]

    @property
    def inbox_url(self) -> str:
        return f"http://127.0.0.1:{self.inbox_port}"

    def start_inbox(self) -> None:
        proc = self._spawn(
            "inbox",
            [
                str(VENV_BIN / "python"),
                "-m",
                "staff_inbox",
                "--port",
                str(self.inbox_port),
            ],
        )
        wait_until(f"{self.inbox_url}/health", 60, proc)

    def inbox_session(self, username: str, password: str) -> requests.Session:
        """A staff session logged in to this stack's inbox; every POST repeats the
        CSRF token the login set, as the inbox page does."""
        session = requests.Session()
        reply = session.post(
            f"{self.inbox_url}/api/login",
            json={"username": username, "password": password},
            timeout=10,
        )
        assert reply.status_code == 200, reply.text
        session.headers["X-CSRF-Token"] = session.cookies["kat_csrf"]
        return session

    def start_web(self, port: int) -> str:
        """The web chat's static server (python -m webchat) for this Rasa; its URL."""
        url = f"http://127.0.0.1:{port}"
        proc = self._spawn(
            "web",
            [
                str(VENV_BIN / "python"),
                "-m",
                "webchat",
                "--port",
                str(port),
                "--rasa-url",
                self.rasa_url,
            ],
        )
        wait_until(f"{url}/health", 60, proc)
        return url

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs.get(name)
        if not path or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # --- talking to the assistant ---------------------------------------------------
    def say(self, sender: str, text: str) -> List[Dict[str, Any]]:
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=60,
        )
        response.raise_for_status()
        return list(response.json())

    @staticmethod
    def conversation(sender: str, channel: str = "rest") -> str:
        """Rasa's conversation id for a channel's sender (``rest:me``, ``sms:+1...``)."""
        conversation = ids.for_channel(channel, sender)
        assert conversation, f"not an acceptable {channel} sender: {sender!r}"
        return conversation

    def tracker(self, sender: str, channel: str = "rest") -> Dict[str, Any]:
        """The tracker of ``sender``'s conversation on ``channel``."""
        return self.tracker_of(self.conversation(sender, channel))

    def tracker_of(self, conversation_id: str) -> Dict[str, Any]:
        """The tracker of a conversation id, whatever it is (one quoted segment)."""
        conversation = ids.url_segment(conversation_id)
        response = requests.get(
            f"{self.rasa_url}/conversations/{conversation}/tracker",
            headers=self.api_headers(),
            timeout=30,
        )
        response.raise_for_status()
        return dict(response.json())

    def parse_intent(self, text: str) -> str:
        """The final intent (after the safety gate) for a text, via the HTTP API."""
        response = requests.post(
            f"{self.rasa_url}/model/parse",
            headers=self.api_headers(),
            json={"text": text},
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["intent"]["name"])

    def actions_for_new_conversation(self, text: str) -> List[str]:
        """What the bot did for ``text`` as the first message of a new conversation."""
        sender = f"probe-{uuid.uuid4().hex}"
        self.say(sender, text)
        return self.bot_actions_after_last_user(sender)

    def bot_actions_after_last_user(
        self, sender: str, channel: str = "rest"
    ) -> List[str]:
        """Names of what the bot did for the latest message (utter_faq/<topic> resolved)."""
        return self.bot_actions_of(self.conversation(sender, channel))

    def bot_actions_of(self, conversation_id: str) -> List[str]:
        """As bot_actions_after_last_user, for a conversation id as it is (Rasa's
        callback channel keeps the sender as the id, without a namespace)."""
        events = self.tracker_of(conversation_id)["events"]
        last_user = max(i for i, e in enumerate(events) if e["event"] == "user")
        names: List[str] = []
        for event in events[last_user + 1 :]:
            if event["event"] == "bot":
                utter = (event.get("metadata") or {}).get("utter_action")
                if utter:
                    names.append(utter)
            elif event["event"] == "action":
                name = event.get("name") or ""
                # utter_* actions are reported by their bot event (with the full
                # utter_faq/<topic> name); list the other actions themselves.
                if name != "action_listen" and not name.startswith("utter_"):
                    names.append(name)
        return names


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def latest_intent(tracker: Dict[str, Any]) -> Optional[str]:
    return (tracker.get("latest_message") or {}).get("intent", {}).get("name")


def eventually(check: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


class RawClient:
    """A python-socketio client in its own thread and event loop (not a browser)."""

    def __init__(self, url: str, origin: str) -> None:
        self.url, self.origin = url, origin
        self.received: List[Dict[str, Any]] = []
        self.confirms: List[Dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("bot_uttered", self._bot)
        self.sio.on("session_confirm", self._confirm)

    async def _bot(self, data: Dict[str, Any]) -> None:
        self.received.append(data)

    async def _confirm(self, data: Dict[str, Any]) -> None:
        self.confirms.append(data)

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def connect(self) -> None:
        # Long polling: python-engineio 4.15's websocket client needs aiohttp >= 3.10,
        # and Rasa 3.6 pins aiohttp 3.9.5. The server checks both transports alike.
        # wait_timeout: python-socketio waits only 1 s for the namespace by default; a
        # refused namespace still fails at once (its connect_error ends the wait).
        self.run(
            self.sio.connect(
                self.url,
                headers={"Origin": self.origin},
                transports=["polling"],
                wait_timeout=10,
            )
        )

    def request_session(self, payload: Dict[str, Any]) -> Dict[str, Any]:
        before = len(self.confirms)
        self.run(self.sio.emit("session_request", payload))
        assert eventually(lambda: len(self.confirms) > before, 10)
        return self.confirms[-1]

    def close(self) -> None:
        self.run(self.sio.disconnect())
        self.loop.call_soon_threadsafe(self.loop.stop)
