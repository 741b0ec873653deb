"""The intent + FAQ-topic classifier (components/linear_nlu.py) and its features
(kat/text_features.py).

Small hand-written training sets, so each test knows which words point where; the real
model's figures come from the understanding benchmark and the held-out gates in
``make test``. The WordLlama embeddings are the real ones unpacked by set-up
(build/wordllama); tests that need them say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.linear_nlu import LinearIntentClassifier, predict_proba_row
from kat.text_features import (
    WORDLLAMA_DIR,
    Embedder,
    FeatureWeights,
    TextFeatures,
    sentences,
)

EXAMPLES: List[Tuple[str, str, str]] = [
    ("hi", "greet", ""),
    ("hello there", "greet", ""),
    ("hey hey", "greet", ""),
    ("what is ketamine", "faq", "faq/what_is_ketamine"),
    ("tell me what ketamine is", "faq", "faq/what_is_ketamine"),
    ("ketamine what is it", "faq", "faq/what_is_ketamine"),
    ("what are the side effects", "faq", "faq/side_effects"),
    ("any side effects", "faq", "faq/side_effects"),
    ("side effects of it", "faq", "faq/side_effects"),
    ("i want to kill myself", "crisis", ""),
    ("i want to end my life", "crisis", ""),
    ("thinking of ending it all", "crisis", ""),
    ("book a flight to boston", "out_of_scope", ""),
    ("weather tomorrow", "out_of_scope", ""),
    ("set a timer for ten minutes", "out_of_scope", ""),
]

needs_embeddings = pytest.mark.skipif(
    not (WORDLLAMA_DIR / "l2_supercat_256.safetensors").exists(),
    reason="set-up unpacks the WordLlama embeddings (scripts/build_embeddings.py)",
)


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def _training() -> TrainingData:
    messages = []
    for text, intent, key in EXAMPLES:
        data = {TEXT: text, INTENT: intent}
        if key:
            data[INTENT_RESPONSE_KEY] = key
        messages.append(Message(data=data))
    return TrainingData(messages)


def _trained(tmp_path: Path, **config: float) -> Tuple[LinearIntentClassifier, Resource]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intent")
    classifier = LinearIntentClassifier.create(
        {"meaning_weight": 0.0, "C": 50.0, **config}, storage, resource, _context()
    )
    classifier.train(_training())
    return classifier, resource


def test_faq_topics_are_labels_of_their_own_and_faq_sums_them(tmp_path: Path) -> None:
    classifier, _ = _trained(tmp_path)
    assert "faq/side_effects" in classifier.labels
    assert "faq" not in classifier.labels
    message = Message(data={TEXT: "what side effects are there"})
    classifier.process([message])
    intent = message.get(INTENT)
    assert intent["name"] == "faq"
    probabilities, _ = classifier.distribution("what side effects are there")
    faq_mass = sum(
        p
        for label, p in zip(classifier.labels, probabilities, strict=False)
        if label.startswith("faq/")
    )
    assert intent["confidence"] == pytest.approx(faq_mass)
    selected = message.get(RESPONSE_SELECTOR_PROPERTY_NAME)["faq"]
    prediction = selected["response"]
    assert prediction["intent_response_key"] == "faq/side_effects"
    assert prediction["utter_action"] == "utter_faq/side_effects"
    # The topic's confidence is its share of the FAQ mass: the ranking sums to 1.
    assert sum(item["confidence"] for item in selected["ranking"]) == pytest.approx(1.0)


def test_saved_and_loaded_model_gives_the_same_answers(tmp_path: Path) -> None:
    classifier, resource = _trained(tmp_path)
    loaded = LinearIntentClassifier.load(
        {"meaning_weight": 0.0}, LocalModelStorage(tmp_path), resource, _context()
    )
    for text in ("hello", "what is ketamine", "set a timer", "i want to die"):
        a, _ = classifier.distribution(text)
        b, _ = loaded.distribution(text)
        assert np.allclose(a, b), text


def test_a_long_message_is_decided_by_its_clearest_sentence(tmp_path: Path) -> None:
    classifier, _ = _trained(tmp_path)
    text = (
        "ok so i was on the bus and my phone was at two percent. "
        "my friend said something about this place. what are the side effects. "
        "anyway thanks"
    )
    probabilities, sentence = classifier.distribution(text)
    assert sentence == 2
    assert classifier.labels[int(np.argmax(probabilities))] == "faq/side_effects"


def test_the_crisis_confidence_is_always_the_whole_messages(tmp_path: Path) -> None:
    classifier, _ = _trained(tmp_path)
    text = (
        "the bus was late and it rained on me all the way over here. "
        "i want to end my life. what are the side effects"
    )
    whole = classifier.probabilities([text])[0]
    probabilities, sentence = classifier.distribution(text)
    crisis = classifier.labels.index("crisis")
    assert sentence == 2  # a sentence decided the topic...
    each = classifier.probabilities(sentences(text))[sentence]
    # ...but the crisis share is the whole message's, renormalised with the sentence's.
    expected = whole[crisis] / (1.0 - each[crisis] + whole[crisis])
    assert probabilities[crisis] == pytest.approx(expected)
    assert probabilities.sum() == pytest.approx(1.0)


def test_a_missing_or_untrained_model_leaves_messages_alone(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    loaded = LinearIntentClassifier.load({}, storage, Resource("never"), _context())
    message = Message(data={TEXT: "hi"})
    loaded.process([message])
    assert message.get(INTENT) is None


def test_one_row_probabilities_are_scikit_learns(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    features = TextFeatures(None, FeatureWeights(meaning=0.0)).fit(
        [t for t, _, _ in EXAMPLES]
    )
    labels = [key or intent for _, intent, key in EXAMPLES]
    model = LogisticRegression(C=10.0, max_iter=1000).fit(
        features.transform([t for t, _, _ in EXAMPLES]), labels
    )
    rows = features.transform(["what is it", "hello", "weather", "end it all"])
    for i in range(rows.shape[0]):
        by_feature = np.ascontiguousarray(model.coef_.T)
        ours = predict_proba_row(by_feature, model.intercept_, rows[i])
        assert np.allclose(ours, model.predict_proba(rows[i])[0])


def test_each_feature_block_has_unit_length_times_its_weight() -> None:
    features = TextFeatures(None, FeatureWeights(word=1.0, char=0.5, meaning=0.0))
    features.fit([t for t, _, _ in EXAMPLES])
    row = features.transform(["what are the side effects"]).toarray()[0]
    words = len(features.word.vocabulary)
    assert np.linalg.norm(row[:words]) == pytest.approx(1.0)
    assert np.linalg.norm(row[words:]) == pytest.approx(0.5)


@needs_embeddings
def test_wordllama_embeddings_put_paraphrases_close() -> None:
    embedder = Embedder.from_dir()
    hooked, addictive, weather = embedder.embed(
        ["can you get hooked on it", "is it addictive", "weather in boston tomorrow"]
    )
    assert np.linalg.norm(hooked) == pytest.approx(1.0, abs=1e-5)
    assert hooked @ addictive > hooked @ weather


@needs_embeddings
def test_the_embeddings_travel_inside_the_model(tmp_path: Path) -> None:
    classifier, resource = _trained(tmp_path, meaning_weight=1.0)
    with LocalModelStorage(tmp_path).read_from(resource) as directory:
        stored = np.load(directory / "embedding.npy")
    assert stored.shape == (32000, 256)
    loaded = LinearIntentClassifier.load(
        {}, LocalModelStorage(tmp_path), resource, _context()
    )
    a, _ = classifier.distribution("is it addictive")
    b, _ = loaded.distribution("is it addictive")
    assert np.allclose(a, b)


def test_sentences_splits_at_sentence_ends_and_drops_fragments() -> None:
    assert sentences("hi. what is ketamine exactly? ok thanks so much!\nbye") == [
        "what is ketamine exactly?",
        "ok thanks so much!",
    ]


def test_ngram_blocks_match_scikit_learns_tfidf() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from kat.text_features import WORD_PATTERN, NgramBlock

    texts = [t for t, _, _ in EXAMPLES] + ["a b", "what is it?? idk lol"]
    probes = ["what is ketamine lol", "side effects?", "x", "weather tomorrow in boston"]
    for kind, theirs in (
        (
            "word",
            TfidfVectorizer(
                ngram_range=(1, 2), token_pattern=WORD_PATTERN, sublinear_tf=True
            ),
        ),
        (
            "char",
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
            ),
        ),
    ):
        ours = NgramBlock(kind, min_df=2 if kind == "char" else 1).fit(texts)
        theirs.fit(texts)
        assert ours.vocabulary == theirs.vocabulary_
        for text in probes:
            expected = theirs.transform([text]).toarray()[0]
            cols, values = ours.row(text)
            got = np.zeros(len(expected))
            got[cols] = values
            assert np.allclose(got, expected), (kind, text)
