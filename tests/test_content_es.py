"""The Spanish replies (domain.yml ``*_es``; translation, needs clinical review) pass the
same checks as the English ones (tests/test_content.py): every patient-facing reply has
its Spanish twin with the same placeholders, buttons and channel variants; every Spanish
FAQ answer is traced sentence by sentence to the sheet quotes of content/faq_sources.yml,
keeps its source's terms and hedges, and makes no claim the sheet lacks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest
import yaml

from components.profile_nlg import spoken_name
from tests.test_content import FAQ_TOPICS

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# English hedge -> the Spanish words that keep it.
HEDGES_ES = {
    "may": ("puede", "pueden", "podría", "podrían"),
    "emerging": ("emergente", "emergentes"),
    "suggests": ("sugiere", "sugieren"),
    "research now suggests": ("sugiere", "sugieren"),
    "research suggests": ("sugiere", "sugieren"),
    "potentially": ("potencialmente", "posiblemente"),
    "possible": ("posible", "posibles", "podría", "podrían"),
    "often": ("a menudo", "con frecuencia", "suele", "suelen"),
    "generally": ("en general", "generalmente"),
}
# Placeholders a Spanish twin leaves out, and why.
NOT_IN_SPANISH = {
    # The Crisis Text Line's "text HOME to 741741" is an English-language service: the
    # Spanish crisis reply gives 988 in Spanish (press 2, or text AYUDA) instead.
    "clinic_crisis_text_line",
}
FORBIDDEN_CLAIMS_ES = [
    r"\bcura(n|r)?\b",
    r"\bgarantiza",
    r"\bcomprobad[oa]",
    r"\b100 ?%",
    r"\bsin efectos secundarios\b",
    r"\bcompletamente segur[oa]",
    r"\bpermanente",
    r"(?<!no está )\baprobad[oa] por la FDA\b",
    r"\busted es (elegible|apt[oa])\b",
    r"(?<!si )\bes segur[oa] para usted\b",
    r"\bdosis recomendada\b",
    r"\b\d+(\.\d+)? ?(mg|miligramo)",
]


@pytest.fixture(scope="module")
def responses() -> Dict[str, List[Dict[str, Any]]]:
    return yaml.safe_load((ROOT / "domain.yml").read_text("utf-8"))["responses"]


@pytest.fixture(scope="module")
def sources() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "content" / "faq_sources.yml").read_text("utf-8"))


def sentences(text: str) -> List[str]:
    """The sentence split content/faq_sources.yml's `es: trace` counts."""
    found: List[str] = []
    for line in text.split("\n"):
        line = line.strip().removeprefix("•").strip()
        if line:
            found += [s for s in re.split(r"(?<=[.?!])\s+", line) if s]
    return found


def _english_names(responses: Dict[str, Any]) -> List[str]:
    return [name for name in responses if not name.endswith("_es")]


def _placeholders(variant: Dict[str, Any]) -> Set[str]:
    return set(PLACEHOLDER.findall(str(variant.get("text") or "")))


def test_every_reply_has_its_spanish_twin(responses) -> None:  # type: ignore[no-untyped-def]
    missing = [
        name
        for name in _english_names(responses)
        if spoken_name(name, "es") not in responses
    ]
    assert missing == []


@pytest.mark.parametrize("name", ["utter_greet", "utter_faq/dose", "utter_forgotten"])
def test_the_twin_check_reads_real_replies(responses, name: str) -> None:  # type: ignore[no-untyped-def]
    assert spoken_name(name, "es") in responses  # the check above is not vacuous


def test_twins_keep_placeholders_buttons_and_channels(responses) -> None:  # type: ignore[no-untyped-def]
    for name in _english_names(responses):
        english, spanish = responses[name], responses[spoken_name(name, "es")]
        assert [v.get("channel") for v in english] == [
            v.get("channel") for v in spanish
        ], name
        for en, es in zip(english, spanish, strict=True):
            for key in _placeholders(en) - NOT_IN_SPANISH:
                assert {key, f"{key}_es"} & _placeholders(es), f"{name}: {{{key}}}"
            en_buttons, es_buttons = en.get("buttons") or [], es.get("buttons") or []
            assert len(en_buttons) == len(es_buttons), name
            for a, b in zip(en_buttons, es_buttons, strict=True):
                if str(a["payload"]).startswith("/"):
                    assert a["payload"] == b["payload"], name  # an intent: unchanged
                elif a["payload"] not in ("yes", "no"):
                    # Words the button sends: in Spanish, so the chat stays Spanish.
                    assert a["payload"] != b["payload"], name
            assert en.get("custom") == es.get("custom"), name


@pytest.mark.parametrize("topic", FAQ_TOPICS)
def test_spanish_answer_is_traced_to_the_sheet_quotes(topic, sources, responses) -> None:  # type: ignore[no-untyped-def]
    entry = sources["topics"][topic]
    trace = (entry.get("es") or {}).get("trace")
    assert trace, f"{topic}: the Spanish answer has no trace in faq_sources.yml"
    assert "needs clinical review" in entry["es"]["status"]
    text = responses[spoken_name(f"utter_faq/{topic}", "es")][0]["text"]
    said = sentences(text)
    assert len(said) == len(trace), f"{topic}: {len(said)} sentences, {len(trace)} traced"
    quotes = range(len(entry["quotes"]))
    assert all(t == "none" or t in quotes for t in trace), topic
    assert any(t != "none" for t in trace), f"{topic}: no sentence comes from the sheet"


@pytest.mark.parametrize("topic", FAQ_TOPICS)
def test_spanish_answer_keeps_terms_and_hedges(topic, sources, responses) -> None:  # type: ignore[no-untyped-def]
    entry = sources["topics"][topic]
    spanish = entry["es"]
    text = responses[spoken_name(f"utter_faq/{topic}", "es")][0]["text"].lower()
    rendered = set(spanish["terms"].values())
    for term in entry["terms"]:
        assert term in rendered, f"{topic}: no Spanish rendering of {term!r}"
    for es_term in spanish["terms"]:
        assert es_term.lower() in text, f"{topic}: answer lacks {es_term!r}"
    assert len(spanish["hedges"]) == len(entry["hedges"]), topic
    for hedge in entry["hedges"]:
        options = HEDGES_ES[hedge.split("|")[0]]
        assert any(
            re.search(rf"\b{o}\b", text) for o in options
        ), f"{topic}: the Spanish answer dropped the hedge {hedge!r}"


def test_no_spanish_reply_makes_a_forbidden_claim(responses) -> None:  # type: ignore[no-untyped-def]
    offenders = [
        (name, pattern)
        for name, variants in responses.items()
        if name.endswith("_es")
        for variant in variants
        for pattern in FORBIDDEN_CLAIMS_ES
        if re.search(pattern, str(variant.get("text") or ""), re.IGNORECASE)
    ]
    assert offenders == []


def test_the_forbidden_claims_check_can_fail() -> None:
    text = "La ketamina cura el TDAH y está aprobada por la FDA."
    assert any(re.search(p, text, re.IGNORECASE) for p in FORBIDDEN_CLAIMS_ES)
    assert not re.search(FORBIDDEN_CLAIMS_ES[7], "no está aprobada por la FDA")


def test_spanish_greeting_carries_the_spanish_disclaimer(responses) -> None:  # type: ignore[no-untyped-def]
    from kat.clinic_profile import load_profile

    assert "{clinic_disclaimer_es}" in responses["utter_greet_es"][0]["text"]
    disclaimer = load_profile()["disclaimer_es"]
    for needed in ["asistente automático", "no consejos médicos", "911", "988", "2"]:
        assert needed in disclaimer
    assert "no está aprobada por la FDA" in disclaimer
