"""Smoke test of the README's first command, as a newcomer would run it.

    python3 scripts/smoke_run.py [--timeout 1200]

Runs ``make run`` in its own session on its default ports, waits for the "The assistant
is running" block, checks that the REST channel answers a greeting, opens every page the
block prints (the web chat demo page and the staff inbox) in headless Chromium and checks
that each works (the widget opens, greets and answers a question; staff can log in), then
stops ``make run`` as Ctrl-C does and fails if anything it started is left running.

Needs only the Python standard library (it runs before set-up, with any Python 3) and
Debian's chromium, driven over the DevTools protocol through ``chromium
--remote-debugging-pipe``: no browser download, no test dependency. ``.ci/run`` runs this
before ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
READY = "The assistant is running"
PAGE_ROWS = {"web chat": re.compile(r"Web chat.*?(http://\S+)"),
             "staff inbox": re.compile(r"Staff inbox.*?(http://\S+)")}  # fmt: skip
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]


class SmokeFailure(RuntimeError):
    pass


def log(text: str) -> None:
    print(f"[smoke] {text}", flush=True)


# --- make run -----------------------------------------------------------------------
class MakeRun:
    """``make run`` in a session of its own; its output is echoed and kept."""

    def __init__(self) -> None:
        self.lines: List[str] = []
        self.proc = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            print(f"  | {line}", end="", flush=True)

    def wait_ready(self, timeout: float) -> List[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(READY in line for line in self.lines):
                time.sleep(1.0)  # the rest of the block
                return self.lines
            if self.proc.poll() is not None:
                raise SmokeFailure(f"make run exited with status {self.proc.returncode}")
            time.sleep(0.5)
        raise SmokeFailure(f"make run printed no {READY!r} within {timeout:.0f} s")

    def session_processes(self) -> List[str]:
        """Processes still in make run's session (its children and theirs)."""
        left = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                # the fields after the command's closing parenthesis: state ppid pgrp sid
                sid = int(stat.rsplit(")", 1)[1].split()[3])
                if sid == self.proc.pid:
                    cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                    left.append(f"{entry.name}: {cmd.decode(errors='replace')[:120]}")
            except (OSError, IndexError, ValueError):
                continue
        return left

    def interrupt(self, timeout: float = 60.0) -> None:
        """Ctrl-C: SIGINT to the whole foreground process group, as a terminal does."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise SmokeFailure(f"make run did not stop within {timeout:.0f} s") from error
        deadline = time.monotonic() + 15
        while self.session_processes() and time.monotonic() < deadline:
            time.sleep(0.5)

    def kill_all(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def page_urls(lines: List[str]) -> Dict[str, str]:
    """The pages the "running" block prints, by name."""
    block = "\n".join(lines[max(i for i, x in enumerate(lines) if READY in x) :])
    urls = {}
    for name, pattern in PAGE_ROWS.items():
        found = pattern.search(block)
        if not found:
            raise SmokeFailure(f"the running block names no {name} URL")
        urls[name] = found.group(1).rstrip(".,)")
    return urls


def rest_port(lines: List[str]) -> str:
    found = re.search(
        r"http://127\.0\.0\.1:(\d+)/webhooks/rest/webhook", "\n".join(lines)
    )
    if not found:
        raise SmokeFailure("the running block names no REST channel URL")
    return found.group(1)


def rest_greeting(port: str) -> str:
    body = json.dumps({"sender": "smoke-test", "message": "hi"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310 - loopback
        messages = json.load(reply)
    texts = " ".join(str(m.get("text", "")) for m in messages)
    if "assistant" not in texts:
        raise SmokeFailure(f"the REST greeting has no greeting in it: {texts[:200]!r}")
    return texts


# --- Chromium over the DevTools protocol (pipe) -----------------------------------------
def _above(fd: int, lowest: int) -> int:
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, lowest)
    os.close(fd)
    return moved


class Browser:
    """Headless Chromium driven over ``--remote-debugging-pipe`` (fds 3 and 4)."""

    def __init__(self) -> None:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            raise SmokeFailure("chromium is not installed (apt-get install chromium)")
        self.profile = tempfile.mkdtemp(prefix="kat-smoke-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The child's ends, moved above 4 so that putting them on 3 and 4 clobbers neither.
        to_browser_r = _above(to_browser_r, 10)
        from_browser_w = _above(from_browser_w, 10)

        def hand_over() -> None:  # in the child: the pipe ends on fds 3 and 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Python's own descriptors are not inheritable (PEP 446); subprocess's
            # close_fds would close 3 and 4 again after hand_over.
            close_fds=False,
            preexec_fn=hand_over,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.session: Optional[str] = None

    def call(self, method: str, params: Optional[Dict[str, Any]] = None) -> Any:
        self._next_id += 1
        message: Dict[str, Any] = {"id": self._next_id, "method": method}
        if params:
            message["params"] = params
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise SmokeFailure(f"DevTools {method}: {reply['error']}")
                return reply.get("result", {})

    def _receive(self) -> Dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                raise SmokeFailure("chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )
        self.session = attached["sessionId"]
        self.call("Page.enable")
        self.call("Page.navigate", {"url": url})

    def js(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise SmokeFailure(f"page script failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.js(expression)
            except SmokeFailure:
                value = None  # the page is still loading
            if value:
                return value
            time.sleep(0.25)
        raise SmokeFailure(f"{what}: not seen within {timeout:.0f} s")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self._to_browser)
        os.close(self._from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)


BOT_TEXTS = "[...document.querySelectorAll('.kat-msg-bot')].map(n => n.innerText)"


def check_web_chat(browser: Browser, url: str) -> None:
    browser.open(url)
    browser.wait_for("!!document.querySelector('.kat-launcher')", "the chat launcher")
    browser.js(
        "(() => { const p = document.querySelector('.kat-panel');"
        " if (!p || p.hidden || p.offsetParent === null)"
        " document.querySelector('.kat-launcher').click(); return true; })()"
    )
    browser.wait_for(f"{BOT_TEXTS}.some(t => t.includes('assistant'))", "the greeting")
    before = browser.js(f"{BOT_TEXTS}.length")
    browser.js(
        "(() => { const i = document.querySelector('.kat-input');"
        " i.value = 'what is ketamine'; i.dispatchEvent(new Event('input'));"
        " document.querySelector('.kat-send').click(); return true; })()"
    )
    answer = browser.wait_for(
        f"(() => {{ const t = {BOT_TEXTS}; return t.length > {before} && t[t.length - 1]; }})()",
        "an answer to 'what is ketamine'",
    )
    if "anesthetic" not in answer and "anaesthetic" not in answer:
        raise SmokeFailure(f"the web chat's answer is not the sheet's: {answer[:200]!r}")


def check_staff_inbox(browser: Browser, url: str, password: str) -> None:
    browser.open(url)
    browser.wait_for(
        "(() => { const f = document.querySelector('#login'); return f && !f.hidden; })()",
        "the staff login form",
    )
    browser.js(
        "(() => { document.querySelector('#username').value = 'staff';"
        f" document.querySelector('#password').value = {json.dumps(password)};"
        " document.querySelector('#login button[type=submit]').click(); return true; })()"
    )
    browser.wait_for(
        "(() => { const s = document.querySelector('#inbox'); return s && !s.hidden; })()",
        "the ticket list after logging in",
    )
    # The local user has every role: the Insights and review-queue links show too.
    browser.wait_for(
        "(() => { const n = document.querySelector('#clinic-links');"
        " return n && !n.hidden; })()",
        "the Insights and review-queue links",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1200.0)
    args = parser.parse_args()
    started = time.monotonic()
    run = MakeRun()
    failure: Optional[str] = None
    try:
        lines = run.wait_ready(args.timeout)
        log(f"make run is up after {time.monotonic() - started:.0f} s")
        rest_greeting(rest_port(lines))
        log("the REST channel answers a greeting")
        urls = page_urls(lines)
        password = (ROOT / "var" / "staff_password").read_text().strip()
        browser = Browser()
        try:
            check_web_chat(browser, urls["web chat"])
            log(f"web chat page works: {urls['web chat']}")
            check_staff_inbox(browser, urls["staff inbox"], password)
            log(f"staff inbox works: {urls['staff inbox']}")
        finally:
            browser.close()
    except (SmokeFailure, OSError) as error:
        failure = str(error)
    try:
        run.interrupt()
    except SmokeFailure as error:
        failure = failure or str(error)
    left = run.session_processes()
    if left:
        run.kill_all()
        failure = failure or "still running after Ctrl-C:\n  " + "\n  ".join(left)
    elapsed = time.monotonic() - started
    if failure:
        log(f"FAILED after {elapsed:.0f} s: {failure}")
        return 1
    log(f"passed in {elapsed:.0f} s; nothing left running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
