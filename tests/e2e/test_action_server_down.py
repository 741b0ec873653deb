"""With the action server stopped, crisis and FAQ replies still reach the patient.

Real servers; the action server is stopped mid-test (its own pair of servers, so the
shared session servers stay up for the other tests).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.e2e.harness import Servers, texts

pytestmark = pytest.mark.e2e


def test_crisis_and_faq_work_without_the_action_server(tmp_path: Path) -> None:
    servers = Servers(workdir=tmp_path)
    try:
        servers.start_actions()
        servers.start_rasa()
        servers.stop("actions")

        sender = f"down-{uuid.uuid4().hex}"
        reply = texts(servers.say(sender, "i don't want to be alive anymore"))
        actions = servers.bot_actions_after_last_user(sender)
        assert actions[0] == "utter_crisis_help"
        assert "911" in reply and "988" in reply and "741741" in reply
        # The hand-off could not be recorded: the patient is told to call the clinic.
        assert "utter_handoff_unavailable" in actions

        other = f"down-{uuid.uuid4().hex}"
        servers.say(other, "what are the side effects")
        assert servers.bot_actions_after_last_user(other) == ["utter_faq/side_effects"]

        asks = f"down-{uuid.uuid4().hex}"
        reply = texts(servers.say(asks, "let me talk to a human"))
        assert "utter_handoff_unavailable" in servers.bot_actions_after_last_user(asks)
        assert "contact the team directly" in reply
    finally:
        servers.stop_all()
