"""Accessibility, checked in real headless Chromium against the real servers.

- axe-core (pinned in web/package.json as a devDependency, installed by set-up's
  ``npm ci`` in web/, never served by the web chat's server) is injected by the test
  itself with ``page.add_script_tag(path=...)`` into: the demo page with the widget open,
  mid-conversation (an FAQ answer with its buttons), waiting for a person (the hand-off
  line and a staff reply), the Spanish widget on a clinic page of another origin, the
  staff inbox (logged in, a ticket open) and the Insights page. No violation of impact
  "serious" or "critical" may remain (the list is printed on failure). The pages'
  Content-Security-Policy forbids inline scripts, so these browser contexts bypass it
  (``bypass_csp``) for axe alone.
- The whole patient path from the keyboard only (no mouse event reaches the page):
  Tab to the launcher and Enter, a reply button, the feedback buttons, typing, End chat.
- WCAG 2.2 AA: every interactive control of the widget at least 24 x 24 CSS px
  (2.5.8; links inside a message's sentence are inline targets, which 2.5.8 exempts);
  a focused control has a visible outline or box-shadow (2.4.7); at 360 x 740 nothing
  scrolls sideways (1.4.10).
- The widget's strings in Spanish come from web/i18n/es.json when the embedding page is
  ``<html lang="es-MX">`` (no language in the settings), served cross-origin.

Screenshots in artifacts/: webchat-a11y-open.png, webchat-a11y-mid-conversation.png,
webchat-a11y-waiting.png, webchat-a11y-spanish.png, webchat-a11y-360px.png.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from staff_inbox.auth import hash_password
from tests.e2e import test_webchat_e2e as webchat
from tests.e2e.harness import Servers
from tests.e2e.test_webchat_e2e import (
    ARTIFACTS,
    FAQ_ANSWER,
    GREETING,
    say,
    session_of,
    settle,
    staff_reply,
    wait_for_bot,
)
from tests.e2e.test_webchat_patient_side_e2e import (
    PROFILE,
    STAFF_TEXT,
    WAITING,
    ask_for_a_nurse,
)
from tests.e2e.webchat_stack import PASSWORD, webchat_stack

browser = webchat.browser

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
MIN_TARGET = 24  # CSS px, WCAG 2.2 2.5.8 (AA)

CLINIC_PAGE = """<!doctype html>
<html lang="es-MX">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Clínica de ejemplo</title></head>
<body><main><h1>Clínica de ejemplo</h1>
<p>Una página de la clínica en otro origen, con el chat incrustado.</p></main>
<script src="{web_url}/widget.js" defer data-server-url="{rasa_url}"></script>
</body></html>"""


class ClinicSite:
    """A clinic's own page on another origin (another port), embedding the widget."""

    def __init__(self) -> None:
        self.html = b""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(site.html)))
                self.end_headers()
                self.wfile.write(site.html)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE}: run `cd web && npm ci`")
    site = ClinicSite()
    # One staff account with every role: tickets and the Insights page.
    users = f"nurse:{hash_password(PASSWORD)}:admin"
    try:
        with webchat_stack(
            Path(tmp_path_factory.mktemp("a11y")),
            users=users,
            profile=PROFILE,
            more_origins=[site.url],
        ) as running:
            servers: Servers = running["servers"]
            site.html = CLINIC_PAGE.format(
                web_url=running["web_url"], rasa_url=servers.rasa_url
            ).encode()
            yield {**running, "clinic_url": site.url}
    finally:
        site.close()


# --- helpers -------------------------------------------------------------------------


def new_page(
    browser: Any, width: int = 1100, height: int = 800, axe: bool = False
) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": height}, bypass_csp=axe
    )
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda msg: msg.type == "error" and page.console_errors.append(msg.text),
    )
    return page


def axe_violations(page: Any, context: str = "document") -> List[Dict[str, Any]]:
    """axe-core's violations on the page (or inside ``context``, a selector)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        """async (context) => {
          const target = context === 'document' ? document : document.querySelector(context);
          const found = await axe.run(target, {resultTypes: ['violations']});
          return found.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary,
                                      html: n.html.slice(0, 200)})),
          }));
        }""",
        context,
    )
    return list(results)


def blocking_violations(page: Any, where: str, context: str = "document") -> List[Any]:
    """axe's serious and critical violations on the page, the others printed."""
    violations = axe_violations(page, context)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    others = [f"{v['id']} ({v['impact']})" for v in violations if v not in blocking]
    print(f"axe on {where}: {len(blocking)} serious/critical; others: {others or 'none'}")
    return [{"page": where, **v} for v in blocking]


def assert_no_blocking(page: Any, where: str, context: str = "document") -> None:
    blocking = blocking_violations(page, where, context)
    assert not blocking, f"axe on {where}:\n" + json.dumps(blocking, indent=2)


CONTROLS = """() => {
  const all = document.querySelectorAll(
    '.kat-chat button, .kat-chat a[href], .kat-chat input, .kat-chat textarea, ' +
    '.kat-chat select, .kat-chat [tabindex]:not([tabindex="-1"])');
  return Array.from(all)
    .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    // links inside a message's sentence: inline targets (WCAG 2.5.8's exception)
    .filter(el => !el.closest('.kat-msg'))
    .map(el => {
      const r = el.getBoundingClientRect();
      return {what: el.className || el.tagName, text: (el.textContent || el.id).trim().slice(0, 40),
              width: r.width, height: r.height};
    });
}"""


def assert_targets_big_enough(page: Any, where: str) -> int:
    controls = page.evaluate(CONTROLS)
    small = [c for c in controls if c["width"] < MIN_TARGET or c["height"] < MIN_TARGET]
    assert not small, f"controls under {MIN_TARGET}px on {where}: {small}"
    return len(controls)


FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || !el.closest('.kat-chat')) return null;
  const s = getComputedStyle(el);
  return {what: el.className || el.tagName, text: (el.textContent || el.id).trim().slice(0, 40),
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
          shadow: s.boxShadow !== 'none'};
}"""


def focused_matches(page: Any, selector: str, text: str = "") -> bool:
    return bool(
        page.evaluate(
            """([selector, text]) => {
              const el = document.activeElement;
              return !!el && el.matches(selector) && (el.textContent || '').includes(text);
            }""",
            [selector, text],
        )
    )


def tab_to(page: Any, selector: str, text: str = "", back: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element is ``selector`` (with
    ``text``), checking every stop on the way has a visible focus indicator."""
    for _ in range(60):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        style = page.evaluate(FOCUS_STYLE)
        if style is not None:
            assert style["outline"] or style["shadow"], f"no visible focus: {style}"
        if focused_matches(page, selector, text):
            return
    raise AssertionError(f"Tab never reached {selector} {text!r}")


def no_sideways_scroll(page: Any, width: int = 360) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator(".kat-panel").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


# --- axe ---------------------------------------------------------------------------------


def test_axe_on_the_widget_open_and_mid_conversation(
    stack: Dict[str, Any], browser: Any
) -> None:
    page = new_page(browser, axe=True)
    page.goto(stack["web_url"])
    wait_for_bot(page, GREETING)
    settle(page)
    assert_no_blocking(page, "the demo page, widget open")
    page.screenshot(path=str(ARTIFACTS / "webchat-a11y-open.png"))

    say(page, "what is ketamine?")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    assert page.locator(".kat-feedback-btn").count() == 2  # the answer's buttons
    assert_no_blocking(page, "mid-conversation, an FAQ answer with its buttons")
    # The End chat confirmation and the kept-chat choice ticked.
    page.focus("#kat-keep")
    page.keyboard.press("Space")
    page.focus(".kat-end")
    page.keyboard.press("Enter")
    assert_no_blocking(page, "the End chat confirmation")
    page.screenshot(path=str(ARTIFACTS / "webchat-a11y-mid-conversation.png"))
    page.keyboard.press("Escape")
    # Minimised, with the launcher only.
    page.focus(".kat-close")
    page.keyboard.press("Enter")
    assert_no_blocking(page, "the widget minimised")
    assert page.console_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_axe_while_waiting_for_a_person(stack: Dict[str, Any], browser: Any) -> None:
    servers: Servers = stack["servers"]
    page = new_page(browser, axe=True)
    page.goto(stack["web_url"])
    wait_for_bot(page, GREETING)
    ask_for_a_nurse(page)
    line = page.locator(".kat-handoff")
    line.wait_for(state="visible", timeout=15_000)
    assert line.inner_text() == WAITING
    session = session_of(page)
    staff_reply(
        servers, servers.conversation(session["session_id"], "socketio"), STAFF_TEXT
    )
    wait_for_bot(page, STAFF_TEXT)
    settle(page)
    assert page.locator(".kat-msg-staff").count() == 1
    assert_no_blocking(page, "waiting for a person, with a staff reply")
    page.screenshot(path=str(ARTIFACTS / "webchat-a11y-waiting.png"))
    page.context.close()


def test_the_spanish_widget_on_a_clinic_page_of_another_origin(
    stack: Dict[str, Any], browser: Any
) -> None:
    """<html lang="es-MX"> and no language in the settings: every string of the widget
    comes from web/i18n/es.json, fetched from the web chat's server."""
    english = json.loads((ROOT / "web" / "i18n" / "en.json").read_text(encoding="utf-8"))
    spanish = json.loads((ROOT / "web" / "i18n" / "es.json").read_text(encoding="utf-8"))
    page = new_page(browser, axe=True)
    page.goto(stack["clinic_url"])
    # Connected from the other origin, on its own session; the widget's first message
    # is the Spanish strings' greetPayload, so the assistant greets in Spanish.
    wait_for_bot(page, "¿Qué le gustaría saber?")
    page.locator(".kat-status:empty").wait_for(state="attached")
    settle(page)
    assert page.get_attribute(".kat-chat", "lang") == "es"
    assert page.get_attribute("#kat-input", "placeholder") == spanish["placeholder"]
    assert page.inner_text(".kat-send") == spanish["send"]
    assert page.inner_text("label[for=kat-input]") == spanish["inputLabel"]
    assert page.inner_text("label[for=kat-keep]") == spanish["keep"]
    assert page.get_attribute(".kat-close", "aria-label") == spanish["minimiseLabel"]
    assert page.get_attribute(".kat-log", "aria-label") == spanish["logLabel"]
    assert "no es para emergencias" in page.inner_text(".kat-footer")
    assert page.inner_text(".kat-human") == spanish["talkToPerson"]
    # None of the widget's own English is left.
    own = page.evaluate(
        """() => {
          const root = document.querySelector('.kat-chat').cloneNode(true);
          root.querySelectorAll('.kat-log').forEach(n => n.remove());
          const labels = Array.from(document.querySelectorAll('.kat-chat [aria-label], .kat-chat [placeholder]'))
            .map(n => (n.getAttribute('aria-label') || '') + ' ' + (n.getAttribute('placeholder') || ''));
          return root.textContent + ' ' + labels.join(' ');
        }"""
    )
    for key, text in english.items():
        if text != spanish[key] and "{" not in text and len(text) > 4:
            assert text not in own, key
    assert_no_blocking(page, "the Spanish widget on another origin")
    page.screenshot(path=str(ARTIFACTS / "webchat-a11y-spanish.png"))
    page.focus(".kat-end")
    page.keyboard.press("Enter")
    assert page.inner_text(".kat-confirm-yes") == spanish["endConfirmYes"]
    page.keyboard.press("Escape")
    assert page.console_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_axe_on_the_staff_inbox_and_insights(stack: Dict[str, Any], browser: Any) -> None:
    servers: Servers = stack["servers"]
    sender = f"a11y-{uuid.uuid4().hex}"
    servers.say(sender, "what dose should I take?")  # a ticket to open
    page = new_page(browser, axe=True)
    page.goto(servers.inbox_url)
    page.fill("#username", "nurse")
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector(".ticket")
    page.locator(".ticket", has_text="clinical question").first.click()
    page.wait_for_selector(".msg.patient")
    page.wait_for_selector("#reply-text")
    found = blocking_violations(page, "the staff inbox, a ticket open")
    page.goto(f"{servers.inbox_url}/insights")
    page.wait_for_selector("h1")
    found += blocking_violations(page, "the Insights page")
    page.context.close()
    # Both pages are checked before failing, so the list names everything to fix.
    assert not found, "axe on the staff pages:\n" + json.dumps(found, indent=2)


# --- keyboard only, target size, focus, 360 px ---------------------------------------------


def test_the_whole_path_from_the_keyboard_only(
    stack: Dict[str, Any], browser: Any
) -> None:
    servers: Servers = stack["servers"]
    page = new_page(browser)
    page.goto(stack["web_url"])
    wait_for_bot(page, GREETING)
    settle(page)
    # Minimise from the keyboard, then come back as a patient would: from the top.
    tab_to(page, ".kat-close")
    page.keyboard.press("Enter")
    assert page.locator(".kat-panel").is_hidden()
    page.reload()
    page.locator(".kat-launcher").wait_for(state="visible")
    page.evaluate(
        """() => {
          window.__mouse = 0;
          ['mousedown', 'mouseup', 'pointerdown', 'click'].forEach(type =>
            document.addEventListener(type, e => { if (e.detail > 0 || e.type !== 'click') window.__mouse++; }, true));
        }"""
    )
    tab_to(page, ".kat-launcher")  # the first stop on the page
    page.keyboard.press("Enter")
    page.locator(".kat-panel").wait_for(state="visible")
    assert focused_matches(page, "#kat-input")

    # A reply button of the greeting.
    tab_to(page, ".kat-reply", "What is KAT?", back=True)
    page.keyboard.press("Enter")
    wait_for_bot(page, "pairs ketamine with psychotherapy")
    settle(page)
    assert page.locator(".kat-msg-user", has_text="What is KAT?").count() == 1

    # Feedback on that answer, then focus is back in the message box.
    assert page.locator(".kat-feedback-btn").count() == 2
    tab_to(page, ".kat-feedback-btn", "Helpful", back=True)
    page.keyboard.press("Enter")
    wait_for_bot(page, "Thanks for letting us know")
    assert focused_matches(page, "#kat-input")
    settle(page)

    # Type a question.
    page.keyboard.type("what is ketamine?")
    page.keyboard.press("Enter")
    wait_for_bot(page, FAQ_ANSWER)
    settle(page)
    session = session_of(page)

    # End chat, confirmed from the keyboard.
    tab_to(page, ".kat-end", back=True)
    page.keyboard.press("Enter")
    assert focused_matches(page, ".kat-confirm-yes")
    page.keyboard.press("Enter")
    wait_for_bot(page, GREETING)
    settle(page)
    assert session_of(page)["session_id"] != session["session_id"]
    assert page.locator(".kat-msg-user").count() == 0
    assert page.evaluate("window.__mouse") == 0  # no mouse event reached the page

    events = servers.tracker(session["session_id"], "socketio")["events"]
    intents = [(e.get("parse_data") or {}).get("intent", {}).get("name") for e in events]
    assert "feedback" in intents
    page.context.close()


def test_targets_focus_and_the_360px_layout(stack: Dict[str, Any], browser: Any) -> None:
    for width, height in ((1100, 800), (360, 740)):
        page = new_page(browser, width=width, height=height)
        page.goto(stack["web_url"])
        wait_for_bot(page, GREETING)
        settle(page)
        counted = assert_targets_big_enough(page, f"{width}px, greeting")
        assert (
            counted >= 10
        )  # minimise, save, end, keep, log, replies, input, send, links
        say(page, "what is ketamine?")
        wait_for_bot(page, FAQ_ANSWER)
        settle(page)
        assert_targets_big_enough(page, f"{width}px, an answer with feedback")
        page.focus(".kat-end")
        page.keyboard.press("Enter")
        assert_targets_big_enough(page, f"{width}px, End chat confirmation")
        if width == 360:
            no_sideways_scroll(page)
        page.keyboard.press("Escape")
        page.focus("#kat-keep")
        page.keyboard.press("Space")

        # Every stop of the Tab order inside the widget shows where the focus is.
        page.focus(".kat-close")
        seen = set()
        for _ in range(40):
            style = page.evaluate(FOCUS_STYLE)
            if style is None:
                break
            assert style["outline"] or style["shadow"], f"no visible focus: {style}"
            seen.add(style["what"])
            page.keyboard.press("Tab")
        for control in (
            "kat-close",
            "kat-keep-box",
            "kat-input",
            "kat-send",
            "kat-human",
        ):
            assert control in seen, (control, seen)

        if width == 360:
            no_sideways_scroll(page)
            page.screenshot(path=str(ARTIFACTS / "webchat-a11y-360px.png"))
            # Minimised: the launcher alone, big enough, no sideways scroll either.
            page.focus(".kat-close")
            page.keyboard.press("Enter")
            assert_targets_big_enough(page, "360px, minimised")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.context.close()
