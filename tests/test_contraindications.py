"""Contraindication knowledge and action_check_contraindications (tracker fixtures)."""

from __future__ import annotations

import itertools
import re
from typing import Any, Dict, List

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.contraindications import ActionCheckContraindications
from kat.contraindications import ContraindicationKnowledge, Mention, default_knowledge
from kat.entity_patterns import load_term_list
from kat.paths import content_dir

# Anything that reads as clearing a patient. Scanned over every answer the action can give.
GREEN_LIGHTS = [
    r"\byou(?:'re| are) (?:eligible|fine|ok|okay|cleared|a good candidate|safe)\b",
    r"(?<!whether )\bit(?:'s| is) safe for you\b",
    r"\byou can (?:do|have|start|go ahead|proceed)\b",
    r"\byou qualify\b",
    r"\bno problem\b",
    r"\bnot a problem\b",
    r"\bgo ahead\b",
    r"\bnothing to worry\b",
]


def entity(value: str, role: str = "self", label: str = "CONDITION") -> Dict[str, Any]:
    return {
        "entity": label,
        "value": value,
        "role": role,
        "extractor": "ClinicalEntityExtractor",
    }


async def run(tracker_factory, text: str, entities: List[Dict[str, Any]]) -> str:  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    tracker = tracker_factory(
        text=text, intent="ask_contraindications", entities=entities
    )
    events = await ActionCheckContraindications().run(dispatcher, tracker, {})
    assert events and events[0]["name"] == "contraindication_checked"
    assert len(dispatcher.messages) == 1
    message = dispatcher.messages[0]
    # Rasa fills domain.yml's response, with its "Talk to a person" button.
    assert message["response"] == "utter_contraindication_answer"
    return str(message["answer"])


async def test_no_condition_named_gives_the_general_list(tracker_factory) -> None:  # type: ignore[no-untyped-def]
    text = await run(tracker_factory, "who shouldn't get ketamine?", [])
    for item in ["active psychosis", "ketamine misuse", "certain heart conditions"]:
        assert item in text
    assert "Only a clinician can decide" in text


async def test_a_listed_condition_recommends_a_person(tracker_factory) -> None:  # type: ignore[no-untyped-def]
    text = await run(
        tracker_factory, "i have schizophrenia can i do kat", [entity("psychosis")]
    )
    assert "lists active psychosis" in text
    assert "please talk it through with a clinician" in text


async def test_several_conditions_are_each_answered(tracker_factory) -> None:  # type: ignore[no-untyped-def]
    text = await run(
        tracker_factory,
        "i have afib and high bp",
        [entity("heart_condition"), entity("hypertension")],
    )
    assert "lists certain heart conditions" in text
    assert "High blood pressure is not on the general list" in text
    assert "a clinician needs to review it" in text


async def test_negated_and_family_conditions_draw_no_conclusion(tracker_factory) -> None:  # type: ignore[no-untyped-def]
    text = await run(
        tracker_factory,
        "i've never had psychosis and my brother has heart problems",
        [entity("psychosis", "negated"), entity("heart_condition", "other")],
    )
    assert "can't draw any conclusion" in text
    assert "lists active psychosis" not in text
    assert "please talk it through" not in text


async def test_unknown_condition_asks_which_with_a_way_out(tracker_factory) -> None:  # type: ignore[no-untyped-def]
    text = await run(tracker_factory, "can i do this with my condition?", [])
    assert "Which condition do you mean" in text and "person" in text


@pytest.mark.parametrize(
    "value,label",
    [
        ("pregnancy", "CONDITION"),
        ("epilepsy", "CONDITION"),
        ("glaucoma", "CONDITION"),
        ("bipolar_disorder", "CONDITION"),
        ("alcohol", "SUBSTANCE"),
    ],
)
async def test_unlisted_conditions_never_get_a_green_light(tracker_factory, value: str, label: str) -> None:  # type: ignore[no-untyped-def]
    text = await run(tracker_factory, "can i do it", [entity(value, label=label)])
    assert "not on the general list" in text and "clinician" in text


async def test_under_18_is_flagged(tracker_factory) -> None:  # type: ignore[no-untyped-def]
    text = await run(tracker_factory, "im 17, can i do this?", [])
    assert "Being under 18 is not on the general list" in text


def test_no_answer_the_action_can_give_clears_anyone() -> None:
    knowledge = default_knowledge()
    ids = [
        "psychosis",
        "ketamine_misuse",
        "heart_condition",
        "hypertension",
        "pregnancy",
        "adhd",
    ]
    roles = ["self", "negated", "other"]
    checked = 0
    for size in range(0, 3):
        for combo in itertools.combinations(ids, size):
            for role_combo in itertools.product(roles, repeat=size):
                mentions = [
                    Mention(i, "CONDITION", r)
                    for i, r in zip(combo, role_combo, strict=False)
                ]
                for personal, minor in itertools.product([True, False], repeat=2):
                    text = knowledge.answer(mentions, personal, minor).text
                    checked += 1
                    for pattern in GREEN_LIGHTS:
                        assert not re.search(pattern, text, re.IGNORECASE), (
                            pattern,
                            text,
                        )
                    if not knowledge.answer(mentions, personal, minor).ask_which:
                        assert "Only a clinician can decide" in text
    assert checked > 500


def test_every_category_has_terms_and_wording_and_every_term_maps() -> None:
    config = yaml.safe_load((content_dir() / "contraindications.yml").read_text())
    conditions = load_term_list()["CONDITION"]
    for category, spec in config["listed"].items():
        assert spec["wording"].strip() and spec["name"].strip(), category
        assert spec["conditions"], category
        for condition in spec["conditions"]:
            assert conditions.get(condition), f"{category}: {condition} has no patterns"
    knowledge = ContraindicationKnowledge(config)
    for condition in conditions:
        listed = condition in knowledge.condition_to_category
        named = condition in config["not_listed"]["names"]
        assert listed or named, f"CONDITION {condition} has no wording"


def test_the_answer_is_domain_wording_with_a_person_on_offer(domain) -> None:  # type: ignore[no-untyped-def]
    (response,) = domain["responses"]["utter_contraindication_answer"]
    assert response["text"] == "{answer}"  # the reviewed content's answer, as it is
    assert [b["payload"] for b in response["buttons"]] == ["/request_human"]
