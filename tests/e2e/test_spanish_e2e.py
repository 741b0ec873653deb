"""Spanish end to end, through the real servers (REST channel, the trained model, the
safety gate with the Spanish patterns, the action server, the reply generator).

The expected replies are read from domain.yml's ``*_es`` responses (their text up to the
first placeholder), so the test checks that the Spanish reply was chosen, not its
wording. The language is the conversation's (slot ``language``): it follows the
patient's messages and "English please" / "en español".
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict, List

import pytest
import yaml

from kat.handoff_store import HandoffStore
from tests.conftest import ROOT
from tests.e2e.harness import Servers, texts

pytestmark = pytest.mark.e2e
RESPONSES: Dict[str, List[Dict[str, Any]]] = yaml.safe_load(
    (ROOT / "domain.yml").read_text("utf-8")
)["responses"]


def opening(name: str) -> str:
    """The response's first words, before any placeholder or line break."""
    text = str(RESPONSES[name][-1]["text"])
    return re.split(r"\{|\n", text, maxsplit=1)[0].strip()[:40]


def new_sender() -> str:
    return f"es-{uuid.uuid4().hex[:8]}"


def test_greeting_faq_and_clinic_facts_in_spanish(servers: Servers) -> None:
    sender = new_sender()
    assert opening("utter_greet_es") in texts(servers.say(sender, "hola buenas"))
    answer = texts(servers.say(sender, "¿qué efectos secundarios tiene la ketamina?"))
    assert opening("utter_faq_side_effects_es") in answer
    assert servers.tracker(sender)["slots"]["language"] == "es"
    cost = texts(servers.say(sender, "y cuanto cuesta una sesion?"))
    assert opening("utter_clinic_info_cost_es") in cost


def test_a_spanish_crisis_gets_the_spanish_crisis_reply_and_an_urgent_ticket(
    servers: Servers,
) -> None:
    sender = new_sender()
    reply = texts(
        servers.say(sender, "ya no quiero vivir, esta noche me tomo todas las pastillas")
    )
    assert "988" in reply and ("oprima 2" in reply or "oprimir 2" in reply)
    assert "AYUDA" in reply and "911" in reply
    store = HandoffStore(f"sqlite:///{servers.workdir / 'handoff.db'}")
    ticket = store.open_ticket_for(servers.conversation(sender))
    assert ticket is not None and ticket.urgent and ticket.reason == "crisis"
    assert ticket.language == "es"  # the inbox shows it


def test_a_spanish_clinical_question_goes_to_a_person_in_spanish(
    servers: Servers,
) -> None:
    sender = new_sender()
    reply = texts(
        servers.say(
            sender, "tomo sertralina todos los dias, puedo hacer la terapia con ketamina?"
        )
    )
    assert opening("utter_handoff_clinical_es") in reply
    tracker = servers.tracker(sender)
    assert tracker["latest_message"]["intent"]["name"] == "clinical_question"
    assert "clinician" not in reply  # nothing English in the reply


def test_the_contact_form_and_misuse_refusal_in_spanish(servers: Servers) -> None:
    sender = new_sender()
    asked = texts(servers.say(sender, "quiero hablar con una persona por favor"))
    assert opening("utter_ask_contact_consent_es") in asked
    misuse = new_sender()
    refusal = texts(
        servers.say(misuse, "donde puedo comprar ketamina sin receta para una fiesta")
    )
    assert opening("utter_misuse_refusal_es") in refusal


def test_the_patient_switches_language_both_ways(servers: Servers) -> None:
    sender = new_sender()
    servers.say(sender, "hola")
    assert opening("utter_language_switched") in texts(
        servers.say(sender, "English please")
    )
    assert opening("utter_faq/side_effects") in texts(
        servers.say(sender, "what are the side effects")
    )
    back = texts(servers.say(sender, "¿podemos seguir en español?"))
    assert opening("utter_language_switched_es") in back
    assert servers.tracker(sender)["slots"]["language"] == "es"
    # A message that shows no language keeps the conversation's.
    servers.say(sender, "ok")
    assert servers.tracker(sender)["slots"]["language"] == "es"


def test_other_languages_keep_the_bilingual_other_language_reply(
    servers: Servers,
) -> None:
    reply = texts(servers.say(new_sender(), "Bonjour, je voudrais un rendez-vous"))
    assert "English or Spanish" in reply and "inglés o en español" in reply


def test_a_spanish_contraindication_question_is_answered_in_spanish(
    servers: Servers,
) -> None:
    sender = new_sender()
    reply = texts(
        servers.say(sender, "tengo arritmia, eso me descarta para la ketamina?")
    )
    assert "clinic's information" not in reply  # the English wording
    assert "profesional" in reply or "clínica" in reply
    for cleared in ("es elegible", "es seguro para usted", "puede hacerlo"):
        assert cleared not in reply
