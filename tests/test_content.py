"""The reviewed content is consistent: every FAQ answer is traced to the clinic sheet.

These tests are the guard-rail for content edits by clinic staff: an answer without a
source, a source quote that is not in the sheet, an answer that drops the sheet's hedges,
or a forbidden medical claim fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FAQ_TOPICS = [
    "what_is_adhd",
    "standard_treatments",
    "what_is_ketamine",
    "mechanism",
    "vs_stimulants",
    "who_is_it_for",
    "benefits",
    "kat",
    "safety",
    "side_effects",
    "addiction",
    "dose",
]
# Claims the sheet never makes. An answer containing one is adding medical claims.
FORBIDDEN_CLAIMS = [
    r"\bcure[sd]?\b",
    r"\bguarantee",
    r"\bproven\b",
    r"\b100 ?%",
    r"\bno side effects\b",
    r"\bcompletely safe\b",
    r"\bpermanent",
    r"(?<!not )\bFDA[- ]approved\b",
    r"\byou are eligible\b",
    r"\byou're eligible\b",
    r"(?<!whether )\bit(?:'s| is) safe for you\b",
    r"\brecommended dose\b",
    r"\b\d+(\.\d+)? ?(mg|milligram)",
]


def _norm(text: str) -> str:
    text = text.replace("’", "'").replace("—", " ").replace("-", " ").lower()
    text = text.replace("anaesthe", "anesthe").replace("behaviour", "behavior")
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def sources() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "content" / "faq_sources.yml").read_text("utf-8"))


@pytest.fixture(scope="module")
def sheet() -> str:
    return (ROOT / "content" / "clinic-info-sheet.txt").read_text("utf-8")


def _sections(sheet: str, headings: List[str]) -> Dict[str, str]:
    """Split the sheet into {heading: body} using the headings the sources name."""
    lines = sheet.splitlines()
    result: Dict[str, str] = {}
    current = None
    for line in lines:
        if line.strip() in headings:
            current = line.strip()
            result[current] = ""
        elif current is not None:
            result[current] += line + "\n"
    return result


def _faq_text(domain: Dict[str, Any], topic: str) -> str:
    variants = domain["responses"][f"utter_faq/{topic}"]
    return " ".join(v["text"] for v in variants)


def test_vendored_sheet_matches_the_approved_one() -> None:
    approved = ROOT.parent / "shared" / "source" / "clinic-info-sheet.txt"
    if not approved.exists():
        pytest.skip("approved sheet not beside this checkout (../shared/source)")
    assert (
        ROOT / "content" / "clinic-info-sheet.txt"
    ).read_bytes() == approved.read_bytes()


def test_faq_topics_are_exactly_the_contracted_set(domain, sources) -> None:  # type: ignore[no-untyped-def]
    in_domain = sorted(
        key.split("/", 1)[1]
        for key in domain["responses"]
        if key.startswith("utter_faq/")
    )
    assert in_domain == sorted(FAQ_TOPICS)
    assert sorted(sources["topics"]) == sorted(FAQ_TOPICS)


@pytest.mark.parametrize("topic", FAQ_TOPICS)
def test_every_quote_is_in_its_sheet_section(topic, sources, sheet) -> None:  # type: ignore[no-untyped-def]
    headings = sorted({h for t in sources["topics"].values() for h in t["sections"]})
    sections = _sections(sheet, headings)
    assert set(sections) == set(headings), "a section heading is not in the sheet"
    entry = sources["topics"][topic]
    assert entry["quotes"], f"{topic} has no source quote"
    for quote in entry["quotes"]:
        assert any(
            quote in sections[h] for h in entry["sections"]
        ), f"{topic}: not in its section(s): {quote!r}"


@pytest.mark.parametrize("topic", FAQ_TOPICS)
def test_answer_keeps_source_terms_and_hedges(topic, sources, domain) -> None:  # type: ignore[no-untyped-def]
    entry = sources["topics"][topic]
    answer = _norm(_faq_text(domain, topic))
    quotes = _norm(" ".join(entry["quotes"]))
    assert entry["terms"], f"{topic}: list the load-bearing terms"
    for term in entry["terms"]:
        options = [_norm(o) for o in term.split("|")]
        assert any(o in quotes for o in options), f"{topic}: {term!r} not in the quotes"
        assert any(o in answer for o in options), f"{topic}: answer lacks {term!r}"
    for hedge in entry["hedges"]:
        options = [_norm(o) for o in hedge.split("|")]
        assert any(
            re.search(rf"\b{re.escape(o)}\b", answer) for o in options
        ), f"{topic}: the answer dropped the hedge {hedge!r}"


@pytest.mark.parametrize("topic", FAQ_TOPICS)
def test_answer_starts_short_and_offers_a_person_where_personal(
    topic, sources, domain
) -> None:  # type: ignore[no-untyped-def]
    text = _faq_text(domain, topic)
    first_sentence = re.split(r"(?<=[.:?!])\s", text, maxsplit=1)[0]
    assert len(first_sentence) <= 160, f"{topic}: first sentence too long for chat"
    if sources["topics"][topic].get("offers_person"):
        assert re.search(r"talk to a person|clinician", text), topic


def test_no_response_makes_a_forbidden_claim(domain) -> None:  # type: ignore[no-untyped-def]
    offenders = []
    for name, variants in domain["responses"].items():
        for variant in variants:
            for pattern in FORBIDDEN_CLAIMS:
                if re.search(pattern, variant.get("text", ""), re.IGNORECASE):
                    offenders.append((name, pattern))
    assert offenders == []


def test_greeting_carries_the_disclaimer(domain) -> None:  # type: ignore[no-untyped-def]
    from kat.clinic_profile import load_profile

    assert "{clinic_disclaimer}" in domain["responses"]["utter_greet"][0]["text"]
    disclaimer = load_profile()["disclaimer"]
    for needed in ["automated assistant", "not medical advice", "person", "911", "988"]:
        assert needed in disclaimer
    assert "off-label" in disclaimer and "not FDA-approved" in disclaimer
    assert "not a clinician" in domain["responses"]["utter_iamabot"][0]["text"]


def test_behaviour_names_follow_the_contract(domain) -> None:  # type: ignore[no-untyped-def]
    names = list(domain["responses"]) + list(domain.get("actions", []))
    for required in [
        "utter_greet",
        "utter_goodbye",
        "utter_iamabot",
        "utter_out_of_scope",
    ]:
        assert required in names
    assert "action_handoff" in names
    assert any("welcome" in n or "thank" in n for n in names)
    assert [n for n in names if "clinic_info" in n], "clinic facts need clinic_info names"
    for name in names:
        if "crisis" in name:
            assert name.startswith("utter_crisis"), f"{name}: crisis names are reserved"


# British spellings the sheet writes the American way ("anesthetic", "behavioral"):
# the English replies follow the sheet.
BRITISH = {
    "anaesthe": "anesthe",
    "behaviour": "behavior",
    "colour": "color",
    "organis": "organiz",
    "recognis": "recogniz",
    "centre": "center",
    "programme": "program",
    "paediatric": "pediatric",
    "haemo": "hemo",
}


def test_english_replies_use_the_sheets_american_spelling(domain: Dict[str, Any]) -> None:
    sheet = (ROOT / "content" / "clinic-info-sheet.txt").read_text(encoding="utf-8")
    assert "anesthetic" in sheet and "behavioral" in sheet  # the sheet's own spelling
    for name, variants in domain["responses"].items():
        if name.endswith("_es"):
            continue
        for variant in variants:
            text = str(variant.get("text") or "").lower()
            for british, american in BRITISH.items():
                assert british not in text, f"{name}: {british!r} -> {american!r}"


class _NoDuplicateKeys(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys without a word: a second `topic:` under
    a crisis category would silently drop every pattern of the first."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    keys = [loader.construct_object(k, deep=True) for k, _ in node.value]
    repeated = sorted({str(k) for k in keys if keys.count(k) > 1})
    if repeated:
        raise yaml.constructor.ConstructorError(
            None, None, f"repeated keys {repeated}", node.start_mark
        )
    return loader.construct_mapping(node, deep=True)


_NoDuplicateKeys.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "content").rglob("*.yml")) + [ROOT / "domain.yml"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_reviewed_file_repeats_a_key(path: Path) -> None:
    yaml.load(path.read_text(encoding="utf-8"), Loader=_NoDuplicateKeys)  # noqa: S506


def test_a_repeated_key_is_caught() -> None:
    with pytest.raises(yaml.constructor.ConstructorError):
        repeated = "a:\n  topic: [x]\n  topic: [y]\n"
        yaml.load(repeated, Loader=_NoDuplicateKeys)  # noqa: S506 (a SafeLoader)
