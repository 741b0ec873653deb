"""Intents and FAQ topics in one linear model, on n-grams plus pretrained meaning.

``LinearIntentClassifier`` does the work of Rasa's DIETClassifier (intent only; entities
come from the spaCy EntityRuler) *and* of Rasa's ``ResponseSelector`` for the ``faq``
retrieval intent, and writes exactly what those two write (``intent`` /
``intent_ranking``; ``response_selector`` -> ``faq`` -> ``response`` / ``ranking``), so the
FallbackClassifier, the safety gate, the ``utter_faq`` retrieval action, the rules and
``rasa test nlu`` work unchanged. How it differs from Rasa's, and why:

* **One decision, not two.** Rasa picks the intent first and the FAQ topic after it, each
  with its own model and threshold, so their losses multiply: measured blind, about 1 in
  7 general questions lost at the intent stage although the topic model would have named
  the right topic (docs/understanding.md). Here every FAQ topic is a label of its own
  beside the other intents; ``faq``'s confidence is the sum of its topics', and the
  topic's confidence is its share of that sum.
* **Its own features** (kat/text_features.py: word and character n-grams and WordLlama's
  pretrained token embeddings, each block at unit length), not the featurizers' output,
  so that it can also score parts of a message: in a long message (two or more
  sentences) the sentence that says most clearly what the patient wants decides, when it
  is clearer than the whole; the crisis confidence is the highest of the whole and every
  sentence. The safety gate still reads the whole text.
* **No TensorFlow**: logistic regression (scikit-learn), trained in seconds, well under a
  millisecond per message on 2 cores, stored as plain arrays (no pickle).

"None of these" is a label too: ``out_of_scope`` is trained on everyday requests that
have nothing to do with the clinic (data/nlu/out_of_domain.yml), and ``not_covered`` on
questions near the sheet that it does not answer (data/nlu/not_covered.yml).
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

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
from rasa.shared.nlu.constants import (
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
from scipy.sparse import csr_matrix

from kat.text_features import Embedder, FeatureWeights, TextFeatures, sentences

logger = logging.getLogger(__name__)

CRISIS = "crisis"
# Labels that say nothing about what the patient wants to know: a sentence of a long
# message is chosen by its most confident label among the others.
CHATTER = {
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "bot_challenge",
    "out_of_scope",
}


def predict_proba_row(
    coef_by_feature: np.ndarray, intercept: np.ndarray, row: csr_matrix
) -> np.ndarray:
    """Softmax of ``coef @ row + intercept`` for one sparse row, from the few weights
    the row's non-zero columns touch. ``coef_by_feature`` is the coefficient matrix
    transposed (one contiguous row of label weights per feature, so the look-up reads
    adjacent memory); scikit-learn's ``predict_proba`` gives the same numbers
    (tests/test_linear_nlu.py)."""
    scores = row.data @ coef_by_feature[row.indices] + intercept
    if scores.shape[0] == 1:  # two labels: one logistic score
        positive = 1.0 / (1.0 + np.exp(-scores[0]))
        return np.array([1.0 - positive, positive])
    exp = np.exp(scores - scores.max())
    return exp / exp.sum()


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Intents and retrieval-intent topics from one logistic regression."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Inverse regularisation strength; class weights balance the labels.
            "C": 20.0,
            "max_iter": 2000,
            # Retrieval intents whose sub-intents (faq/<topic>) are labels of their own.
            "retrieval_intents": ["faq"],
            # Weights of the feature blocks (kat/text_features.py); meaning 0: n-grams only.
            "word_weight": 1.0,
            "char_weight": 1.0,
            "meaning_weight": 1.0,
            # Long messages: a sentence decides when its best label is this much more
            # confident than the whole message's.
            "sentence_margin": 0.05,
            # Labels listed in the output rankings (0: all).
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        features: Optional[TextFeatures] = None,
        labels: Optional[List[str]] = None,
        coef: Optional[np.ndarray] = None,
        intercept: Optional[np.ndarray] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.features = features
        self.labels = labels or []
        self.coef = coef
        self.intercept = intercept
        self._by_feature = np.ascontiguousarray(coef.T) if coef is not None else None
        self._content = np.array([label not in CHATTER for label in self.labels])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    # --- training -----------------------------------------------------------------------
    def _label(self, message: Message) -> Optional[str]:
        intent = message.get(INTENT)
        if intent in self.config["retrieval_intents"]:
            return message.get(INTENT_RESPONSE_KEY) or None
        return intent or None

    def _weights(self) -> FeatureWeights:
        return FeatureWeights(
            word=float(self.config["word_weight"]),
            char=float(self.config["char_weight"]),
            meaning=float(self.config["meaning_weight"]),
        )

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        pairs = [
            (m.get(TEXT), self._label(m))
            for m in training_data.intent_examples
            if m.get(TEXT) and self._label(m)
        ]
        if len({label for _, label in pairs}) < 2:
            logger.warning("LinearIntentClassifier: fewer than two labels to learn")
            return self._resource
        embedder = Embedder.from_dir() if self.config["meaning_weight"] else None
        texts = [str(text) for text, _ in pairs]
        self.features = TextFeatures(embedder, self._weights()).fit(texts)
        model = LogisticRegression(
            C=self.config["C"],
            max_iter=self.config["max_iter"],
            class_weight="balanced",
        )
        model.fit(self.features.transform(texts), [label for _, label in pairs])
        self.labels = [str(label) for label in model.classes_]
        self.coef = np.asarray(model.coef_, dtype=np.float64)
        self.intercept = np.asarray(model.intercept_, dtype=np.float64)
        self._by_feature = np.ascontiguousarray(self.coef.T)
        self._content = np.array([label not in CHATTER for label in self.labels])
        with self._model_storage.write_to(self._resource) as directory:
            self.features.save(directory)
            np.save(directory / "coef.npy", self.coef)
            np.save(directory / "intercept.npy", self.intercept)
            (directory / "labels.json").write_text(json.dumps(self.labels))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                features = TextFeatures.load(directory)
                coef = np.load(directory / "coef.npy", allow_pickle=False)
                intercept = np.load(directory / "intercept.npy", allow_pickle=False)
                labels = json.loads((directory / "labels.json").read_text())
        except (ValueError, OSError) as error:
            logger.warning("LinearIntentClassifier: no usable model (%s)", error)
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, features, labels, coef, intercept)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    # --- prediction ---------------------------------------------------------------------
    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """One row of label probabilities per text."""
        assert self.features is not None and self._by_feature is not None
        assert self.intercept is not None
        rows = self.features.transform(texts)
        return np.vstack(
            [
                predict_proba_row(self._by_feature, self.intercept, rows[i])
                for i in range(len(texts))
            ]
        )

    def distribution(self, text: str) -> Tuple[np.ndarray, Optional[int]]:
        """Label probabilities for a message, and which sentence decided (or None).

        A sentence is chosen by its labels other than crisis: a short aside ("she's
        kinda freaked.") must not turn a question into an alarm. The crisis confidence
        stays the whole message's; buried crisis wording is the crisis patterns' job,
        and they always read the whole text (components/safety_gate.py).
        """
        parts = sentences(text)
        if len(parts) < 2:
            return self.probabilities([text])[0], None
        probs = self.probabilities([text, *parts])
        whole, each = probs[0], probs[1:]
        content = self._content & (np.array(self.labels) != CRISIS)
        clearest = int(np.argmax(each[:, content].max(axis=1)))
        if (
            each[clearest, content].max()
            <= whole[content].max() + self.config["sentence_margin"]
        ):
            return whole, None
        chosen = each[clearest].copy()
        if CRISIS in self.labels:
            i = self.labels.index(CRISIS)
            chosen[i] = whole[i]
            chosen /= chosen.sum()
        return chosen, clearest

    def process(self, messages: List[Message]) -> List[Message]:
        if self.coef is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            probabilities, sentence = self.distribution(text)
            self._write(message, probabilities, sentence)
        return messages

    def _write(
        self, message: Message, probabilities: np.ndarray, sentence: Optional[int]
    ) -> None:
        intents: Dict[str, float] = {}
        topics: Dict[str, Dict[str, float]] = {}
        for label, p in zip(self.labels, probabilities, strict=True):
            intent = label.split("/", 1)[0]
            intents[intent] = intents.get(intent, 0.0) + float(p)
            if intent in self.config["retrieval_intents"] and "/" in label:
                topics.setdefault(intent, {})[label] = float(p)
        length = self.config["ranking_length"] or None
        ranking = [
            {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
            for name, confidence in sorted(intents.items(), key=lambda kv: -kv[1])
        ][:length]
        top = dict(ranking[0])
        if sentence is not None:
            top["sentence"] = sentence  # which sentence decided: an index, never text
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME, {})
        properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = list(topics)
        for intent, scores in topics.items():
            total = sum(scores.values()) or 1.0
            ranked = sorted(scores.items(), key=lambda kv: -kv[1])
            best, p_best = ranked[0]
            properties[intent] = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    # The answers come from domain.yml when the retrieval action runs.
                    RESPONSE_SELECTOR_RESPONSES_KEY: [],
                    PREDICTED_CONFIDENCE_KEY: p_best / total,
                    INTENT_RESPONSE_KEY: best,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: (
                        intent_response_key_to_template_key(best)
                    ),
                },
                RESPONSE_SELECTOR_RANKING_KEY: [
                    {
                        "id": zlib.crc32(label.encode()),
                        INTENT_RESPONSE_KEY: label,
                        PREDICTED_CONFIDENCE_KEY: p / total,
                    }
                    for label, p in ranked[:length]
                ],
            }
        message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
