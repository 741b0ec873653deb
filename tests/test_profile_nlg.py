"""The Rasa-side NLG fills {clinic_<key>} from the clinic profile (no action server)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from components.profile_nlg import ClinicProfileNLG

ROOT = Path(__file__).resolve().parent.parent


def _generate(name: str) -> str:
    domain = Domain.load(str(ROOT / "domain.yml"))
    nlg = ClinicProfileNLG(domain=domain)
    tracker = DialogueStateTracker("nlg-test", domain.slots)
    response = asyncio.run(nlg.generate(name, tracker, "rest"))
    assert response is not None
    return str(response["text"])


def test_greeting_is_filled_from_the_profile() -> None:
    text = _generate("utter_greet")
    assert "{" not in text
    assert "not medical advice" in text and "911" in text


def test_every_response_is_fully_filled() -> None:
    domain = Domain.load(str(ROOT / "domain.yml"))
    for name in domain.responses:
        text = _generate(name)
        assert "{" not in text and "}" not in text, f"{name} left a placeholder: {text}"
