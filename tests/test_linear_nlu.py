"""The TensorFlow-free intent classifier and FAQ selector (components/linear_nlu.py).

Messages carry hand-made sparse features (what the CountVectorsFeaturizers add), so each
test knows which words point where. The held-out accuracy of the real models is checked
by ``rasa test nlu`` in ``make test``; the safety suite checks crisis/clinical routing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    FEATURE_TYPE_SEQUENCE,
    INTENT,
    INTENT_RESPONSE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.preprocessing import normalize

from components.linear_nlu import (
    LinearIntentClassifier,
    LinearResponseSelector,
    sentence_features,
)

VOCABULARY = ["what", "is", "ketamine", "hi", "hello", "dose", "side", "effects"]


def featurised(text: str, **data: Any) -> Message:
    """A message with word counts (one featurizer) and a 2-wide second block."""
    words = text.split()
    counts = np.array([[words.count(w) for w in VOCABULARY]], dtype=float)
    message = Message(data={TEXT: text, **data})
    message.add_features(
        Features(scipy.sparse.coo_matrix(counts), FEATURE_TYPE_SENTENCE, TEXT, "cv")
    )
    message.add_features(
        Features(scipy.sparse.coo_matrix(counts), FEATURE_TYPE_SEQUENCE, TEXT, "cv")
    )
    extra = np.array([[len(words), 0.0]])
    message.add_features(
        Features(scipy.sparse.coo_matrix(extra), FEATURE_TYPE_SENTENCE, TEXT, "x")
    )
    return message


def test_sentence_row_is_rasas_combined_features_scaled_to_unit_length() -> None:
    message = featurised("what is ketamine ketamine")
    sparse_sentence = message.get_sparse_features(TEXT)[1]
    assert sparse_sentence is not None
    expected = normalize(scipy.sparse.csr_matrix(sparse_sentence.features))
    row = sentence_features(message)
    assert row.shape == expected.shape == (1, len(VOCABULARY) + 2)
    assert np.allclose(row.toarray(), expected.toarray())
    assert np.isclose(np.linalg.norm(row.toarray()), 1.0)
    raw = sentence_features(featurised("what is ketamine ketamine"), normalise=False)
    assert raw.toarray()[0, VOCABULARY.index("ketamine")] == 2.0
    empty = Message(data={TEXT: ""})
    assert sentence_features(empty).shape == (1, 0)


def _storage(tmp_path: Path) -> Any:
    return LocalModelStorage(tmp_path)


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


TRAINING = [
    ("hi", "greet", None),
    ("hello", "greet", None),
    ("hi hello", "greet", None),
    ("what is ketamine", "faq", "faq/what_is_ketamine"),
    ("ketamine what is", "faq", "faq/what_is_ketamine"),
    ("is ketamine what", "faq", "faq/what_is_ketamine"),
    ("side effects", "faq", "faq/side_effects"),
    ("what side effects", "faq", "faq/side_effects"),
    ("ketamine side effects", "faq", "faq/side_effects"),
]


def training_data() -> TrainingData:
    examples = []
    for text, intent, response_key in TRAINING:
        data: Dict[str, Any] = {INTENT: intent}
        if response_key:
            data[INTENT_RESPONSE_KEY] = response_key
        examples.append(featurised(text, **data))
    return TrainingData(training_examples=examples)


def test_intent_classifier_trains_saves_loads_and_ranks(tmp_path: Path) -> None:
    storage, resource = _storage(tmp_path), Resource("intent")
    trained = LinearIntentClassifier.create({}, storage, resource, _context())
    trained.train(training_data())
    loaded = LinearIntentClassifier.load({}, storage, resource, _context())
    assert loaded.model is not None
    for component in (trained, loaded):
        [greeting, question] = component.process(
            [featurised("hello hi"), featurised("what is ketamine")]
        )
        assert greeting.get(INTENT)["name"] == "greet"
        assert question.get(INTENT)["name"] == "faq"
        ranking: List[Dict[str, Any]] = question.get("intent_ranking")
        assert [r["name"] for r in ranking] == ["faq", "greet"]
        assert ranking[0]["confidence"] > 0.5 > ranking[1]["confidence"]
        assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_response_selector_writes_what_the_retrieval_action_reads(
    tmp_path: Path,
) -> None:
    storage, resource = _storage(tmp_path), Resource("selector")
    selector = LinearResponseSelector.create({}, storage, resource, _context())
    selector.train(training_data())
    assert set(selector.model.classes_) == {"faq/what_is_ketamine", "faq/side_effects"}
    loaded = LinearResponseSelector.load({}, storage, resource, _context())
    [message] = loaded.process([featurised("ketamine side effects what")])
    properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME)
    assert properties["all_retrieval_intents"] == ["faq"]
    response = properties["faq"]["response"]
    assert response["intent_response_key"] == "faq/side_effects"
    assert response["utter_action"] == "utter_faq/side_effects"
    assert 0.5 < response["confidence"] <= 1.0
    ranking = properties["faq"]["ranking"]
    assert ranking[0]["intent_response_key"] == "faq/side_effects"
    assert ranking[0]["confidence"] == response["confidence"]


def test_a_missing_or_untrained_model_leaves_messages_alone(tmp_path: Path) -> None:
    storage = _storage(tmp_path)
    loaded = LinearIntentClassifier.load({}, storage, Resource("never"), _context())
    assert loaded.model is None
    [message] = loaded.process([featurised("hi")])
    assert message.get(INTENT) is None
    one_label = TrainingData(training_examples=[featurised("hi", intent="greet")])
    untrained = LinearResponseSelector.create({}, storage, Resource("s"), _context())
    untrained.train(one_label)
    assert untrained.model is None


def test_one_row_probabilities_are_scikit_learns(tmp_path: Path) -> None:
    """The hand-written product gives predict_proba's numbers, for two labels (one
    logistic score) and for several (softmax)."""
    from components.linear_nlu import predict_proba_row

    storage = _storage(tmp_path)
    several = LinearResponseSelector.create({}, storage, Resource("a"), _context())
    several.train(training_data())
    intents = LinearIntentClassifier.create({}, storage, Resource("b"), _context())
    intents.train(training_data())  # greet / faq: two labels
    three = [*TRAINING, ("dose", "dose", None), ("what dose", "dose", None)]
    data = TrainingData(training_examples=[featurised(t, intent=i) for t, i, _ in three])
    multi = LinearIntentClassifier.create({}, storage, Resource("c"), _context())
    multi.train(data)
    assert len(intents.model.classes_) == 2 and len(multi.model.classes_) == 3
    for component in (several, intents, multi):
        for text in ["what is ketamine", "hi", "side dose effects", "unknown words"]:
            row = sentence_features(featurised(text))
            expected = component.model.predict_proba(row)[0]
            assert np.allclose(predict_proba_row(component.model, row), expected)
