"""Intent and FAQ-topic classifiers as linear models, without TensorFlow.

``LinearIntentClassifier`` does the job of Rasa's DIETClassifier (intent only; entities
come from the spaCy EntityRuler) and ``LinearResponseSelector`` that of Rasa's
``ResponseSelector`` for the ``faq`` retrieval intent. Both write exactly the output
Rasa's components write (``intent`` / ``intent_ranking``; ``response_selector`` ->
``faq`` -> ``response`` / ``ranking``), so the FallbackClassifier, the safety gate, the
``utter_faq`` retrieval action, the rules and ``rasa test nlu`` work unchanged.

Why: DIET and the ResponseSelector are TensorFlow models. On a 2-core machine their
per-message TensorFlow calls were ~40 % of the Rasa server's CPU (README, Performance)
for choices among a few dozen reviewed labels that a logistic regression on the same
word and character n-gram counts makes as well (held-out intents and FAQ topics in
tests/nlu, checked by ``make test``; crisis and clinical routing checked by the safety
suite). They train in seconds instead of minutes, and a decision is a table of weights.

Each message's n-gram counts are scaled to unit length first, so a long rambling
question weighs the same as a short one.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.nlu.training_data.util import intent_response_key_to_template_key
from scipy.sparse import csr_matrix, vstack

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_model.skops"
CACHE_ATTRIBUTE = "_kat_sentence_row"


def sentence_features(message: Message, normalise: bool = True) -> csr_matrix:
    """The message's sentence-level features (every featurizer's, in pipeline order)
    as one sparse row, scaled to unit length if ``normalise``.

    Built directly from the coordinates: scipy's general ``hstack`` (what Rasa's
    ``Message.get_sparse_features`` uses) was most of this component's time. Kept on
    the message, so the intent classifier and the FAQ selector build it once.
    """
    cached = getattr(message, CACHE_ATTRIBUTE, None)
    if cached is not None and cached[0] == normalise:
        return cached[1]
    columns: List[np.ndarray] = []
    values: List[np.ndarray] = []
    width = 0
    for feature in message.features:
        if feature.attribute != TEXT or feature.type != FEATURE_TYPE_SENTENCE:
            continue
        block = feature.features
        if feature.is_sparse():
            coo = block.tocoo()
            columns.append(coo.col.astype(np.int64) + width)
            values.append(coo.data.astype(np.float64))
        else:
            dense = np.asarray(block, dtype=np.float64).reshape(-1)
            nonzero = np.flatnonzero(dense)
            columns.append(nonzero.astype(np.int64) + width)
            values.append(dense[nonzero])
        width += block.shape[-1]
    data = np.concatenate(values) if values else np.zeros(0)
    cols = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    if normalise and data.size:
        norm = float(np.sqrt(np.dot(data, data)))
        if norm > 0:
            data = data / norm
    row = csr_matrix((data, cols, np.array([0, cols.size])), shape=(1, width))
    setattr(message, CACHE_ATTRIBUTE, (normalise, row))
    return row


def predict_proba_row(model: Any, row: csr_matrix) -> np.ndarray:
    """``model.predict_proba(row)[0]`` for one sparse row, computed from the few
    weights the row's non-zero columns touch (scikit-learn's general sparse product
    and checks cost more than the arithmetic). Same numbers: tests/test_linear_nlu.py.
    """
    scores = model.coef_[:, row.indices] @ row.data + model.intercept_
    if scores.shape[0] == 1:  # two labels: one logistic score
        positive = 1.0 / (1.0 + np.exp(-scores[0]))
        return np.array([1.0 - positive, positive])
    exp = np.exp(scores - scores.max())  # multinomial: softmax
    return exp / exp.sum()


class _LinearClassifier(GraphComponent):
    """Logistic regression on sentence features: training, storage, ranking."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Inverse regularisation strength; class weights balance the labels.
            "C": 10.0,
            "max_iter": 1000,
            "random_state": 42,
            # Scale each message's features to unit length (long messages).
            "normalise": True,
            # Labels listed in the output ranking (0: all).
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Any] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> _LinearClassifier:
        return cls(config, model_storage, resource)

    def _labelled(self, training_data: TrainingData) -> List[Tuple[Message, Text]]:
        raise NotImplementedError

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        pairs = self._labelled(training_data)
        if len({label for _, label in pairs}) < 2:
            logger.warning("%s: fewer than two labels to learn", type(self).__name__)
            return self._resource
        model = LogisticRegression(
            C=self.config["C"],
            max_iter=self.config["max_iter"],
            random_state=self.config["random_state"],
            class_weight="balanced",
        )
        features = [self._features(message) for message, _ in pairs]
        model.fit(vstack(features), [label for _, label in pairs])
        self.model = model
        with self._model_storage.write_to(self._resource) as directory:
            import skops.io as sio

            sio.dump(model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> _LinearClassifier:
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as directory:
                path = directory / MODEL_FILE
                # Like Rasa's LogisticRegressionClassifier: load only a file made of
                # types skops trusts by default (scikit-learn, numpy), never pickle.
                untrusted = sio.get_untrusted_types(file=path)
                if untrusted:
                    raise ValueError(f"untrusted types in {path}: {untrusted}")
                model = sio.load(path, trusted=False)
        except ValueError as error:
            logger.warning("%s: no usable model (%s)", cls.__name__, error)
            model = None
        return cls(config, model_storage, resource, model)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def _features(self, message: Message) -> csr_matrix:
        return sentence_features(message, normalise=self.config["normalise"])

    def rank(self, message: Message) -> List[Tuple[Text, float]]:
        """All labels with their probabilities, most likely first."""
        if self.model is None:
            return []
        probabilities = predict_proba_row(self.model, self._features(message))
        ranked = sorted(
            zip(self.model.classes_, probabilities, strict=True),
            key=lambda pair: -pair[1],
        )
        return [(str(label), float(p)) for label, p in ranked]

    def _top(self, ranked: List[Tuple[Text, float]]) -> List[Tuple[Text, float]]:
        length = self.config["ranking_length"]
        return ranked[:length] if length else ranked


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class LinearIntentClassifier(_LinearClassifier, IntentClassifier):
    """The intent and the intent ranking, as DIETClassifier reports them."""

    def _labelled(self, training_data: TrainingData) -> List[Tuple[Message, Text]]:
        return [
            (m, m.get(INTENT))
            for m in training_data.intent_examples
            if m.get(INTENT) and m.get(TEXT)
        ]

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        for message in messages:
            ranking = [
                {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
                for name, confidence in self._top(self.rank(message))
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class LinearResponseSelector(_LinearClassifier):
    """The retrieval intent's topic (``faq/<topic>``), as ResponseSelector reports it."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**_LinearClassifier.get_default_config(), "retrieval_intent": "faq"}

    def _labelled(self, training_data: TrainingData) -> List[Tuple[Message, Text]]:
        intent = self.config["retrieval_intent"]
        return [
            (m, m.get(INTENT_RESPONSE_KEY))
            for m in training_data.intent_examples
            if m.get(INTENT) == intent and m.get(INTENT_RESPONSE_KEY) and m.get(TEXT)
        ]

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        intent = self.config["retrieval_intent"]
        for message in messages:
            ranked = self.rank(message)
            best, confidence = ranked[0]
            properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME, {})
            properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = [intent]
            properties[intent] = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    # The answers themselves come from domain.yml when the retrieval
                    # action runs (utter_action); the selector only names the topic.
                    RESPONSE_SELECTOR_RESPONSES_KEY: [],
                    PREDICTED_CONFIDENCE_KEY: confidence,
                    INTENT_RESPONSE_KEY: best,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: (
                        intent_response_key_to_template_key(best)
                    ),
                },
                RESPONSE_SELECTOR_RANKING_KEY: [
                    {
                        "id": zlib.crc32(label.encode()),
                        INTENT_RESPONSE_KEY: label,
                        PREDICTED_CONFIDENCE_KEY: p,
                    }
                    for label, p in self._top(ranked)
                ],
            }
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
        return messages
