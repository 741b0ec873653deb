"""kat/coverage.py with content/not_covered.yml: what the sheet does not cover."""

from __future__ import annotations

import pytest

from kat.coverage import default_coverage


@pytest.mark.parametrize(
    "text, group",
    [
        ("can it help with ocd", "other_conditions"),
        ("does it help with chronic pain", "other_conditions"),
        ("is it like tms or emdr", "other_therapies"),
        ("what about the lozenge version, troches?", "routes_and_logistics"),
        ("is it fda approved for this", "regulation_and_research"),
    ],
)
def test_concepts_the_sheet_does_not_cover_are_found(text: str, group: str) -> None:
    assert group in default_coverage().uncovered(text)


@pytest.mark.parametrize(
    "text",
    [
        "is it safe",
        "what are the side effects",
        "does it help with anxiety",  # the sheet: anxiety alongside ADHD
        "can it help with depression too",
        "is it addictive",
        "how is it different from adderall",
    ],
)
def test_what_the_sheet_covers_is_not_flagged(text: str) -> None:
    assert default_coverage().uncovered(text) == []
