"""The Rasa-side NLG fills {clinic_<key>} from the clinic profile (no action server)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from components.profile_nlg import ClinicProfileNLG

ROOT = Path(__file__).resolve().parent.parent


# Responses whose text an action hands over, as the action passes it.
ACTION_FILLED = {"utter_contraindication_answer": {"answer": "The sheet lists ..."}}


def _generate(name: str) -> str:
    domain = Domain.load(str(ROOT / "domain.yml"))
    nlg = ClinicProfileNLG(domain=domain)
    tracker = DialogueStateTracker("nlg-test", domain.slots)
    values = ACTION_FILLED.get(name, {})
    response = asyncio.run(nlg.generate(name, tracker, "rest", **values))
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


def test_unsure_faq_reply_offers_the_likeliest_topics_then_a_person() -> None:
    from rasa.shared.core.events import UserUttered

    from kat.faq_topics import load_topics

    domain = Domain.load(str(ROOT / "domain.yml"))
    nlg = ClinicProfileNLG(domain=domain)
    tracker = DialogueStateTracker("nlg-test", domain.slots)
    tracker.update(
        UserUttered(
            "how long does a session last",
            intent={"name": "faq_unsure", "confidence": 1.0},
            parse_data={
                "intent": {"name": "faq_unsure", "confidence": 1.0},
                "response_selector": {
                    "faq": {
                        "ranking": [
                            {"intent_response_key": "faq/mechanism", "confidence": 0.5},
                            {
                                "intent_response_key": "faq/side_effects",
                                "confidence": 0.3,
                            },
                            {"intent_response_key": "faq/dose", "confidence": 0.1},
                        ]
                    }
                },
            },
        )
    )
    response = asyncio.run(nlg.generate("utter_faq_unsure", tracker, "rest"))
    assert response is not None
    topics = load_topics()
    assert [b["title"] for b in response["buttons"]] == [
        topics["mechanism"]["title"],
        topics["side_effects"]["title"],
        "Talk to a person",
    ]
    assert response["buttons"][0]["payload"] == topics["mechanism"]["question"]
    assert "rather not guess" in response["text"]
    # Without a ranking (e.g. the message came in another way): only the person.
    empty = DialogueStateTracker("nlg-test-2", domain.slots)
    plain = asyncio.run(nlg.generate("utter_faq_unsure", empty, "rest"))
    assert plain is not None and [b["title"] for b in plain["buttons"]] == [
        "Talk to a person"
    ]
    # Other replies keep their buttons as they are.
    greet = asyncio.run(nlg.generate("utter_greet", tracker, "rest"))
    assert greet is not None and "Side effects" in [b["title"] for b in greet["buttons"]]
