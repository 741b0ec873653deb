"""The reviewed term list is well formed and the built spaCy pipeline finds its terms."""

from __future__ import annotations

from pathlib import Path

import pytest

from kat.entity_patterns import (
    TermListError,
    find_ambiguous_phrases,
    iter_terms,
    load_term_list,
)
from kat.paths import spacy_pipeline_dir


def test_term_list_has_the_labels_the_assistant_needs() -> None:
    terms = load_term_list()
    assert {"CONDITION", "MEDICATION", "SUBSTANCE"} <= set(terms)
    assert find_ambiguous_phrases(terms) == {}


def test_everyday_words_are_not_medical_terms() -> None:
    phrases = {entry.phrase for entry in iter_terms(load_term_list())}
    assert not {"add", "coke", "nursing", "drinking"} & phrases


def test_malformed_term_list_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "entities.yml"
    bad.write_text("labels:\n  DISEASE:\n    x: [y]\n")
    with pytest.raises(TermListError, match="unknown label"):
        load_term_list(bad)


@pytest.mark.skipif(not spacy_pipeline_dir().exists(), reason="pipeline not built yet")
def test_built_pipeline_maps_lay_terms_to_canonical_ids() -> None:
    import spacy

    nlp = spacy.load(spacy_pipeline_dir())
    doc = nlp("i have high blood pressure and afib, and i take adderall")
    found = {(ent.label_, ent.ent_id_) for ent in doc.ents}
    assert ("CONDITION", "hypertension") in found
    assert ("CONDITION", "heart_condition") in found
    assert ("MEDICATION", "amphetamine") in found
    assert not nlp("can you add me to the list").ents
