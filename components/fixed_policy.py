"""A dialogue policy whose behaviour is a fixed function of the conversation.

Rasa's own policies learn from stories or rules; the SafetyPolicy and the FollowUpPolicy
decide with a reviewed function of the tracker instead (no training). This base holds
what both need from Rasa's ``Policy``: nothing to train, and a prediction of the one
action the function names, or an abstention. Each subclass registers itself with the
recipe and names its function in ``next_action``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


def session_events(tracker: DialogueStateTracker) -> List[Any]:
    """The events of the tracker's current session (all of them if none started)."""
    events = list(tracker.events)
    starts = [i for i, e in enumerate(events) if isinstance(e, SessionStarted)]
    return events[starts[-1] :] if starts else events


class FixedPolicy(Policy):
    """Predicts ``next_action(tracker)`` with certainty, or abstains when it is None."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        config = {**self.get_default_config(), **config}
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    @staticmethod
    def next_action(tracker: DialogueStateTracker) -> Optional[Text]:
        raise NotImplementedError

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        return self._resource  # nothing to learn: the behaviour is fixed

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        action = self.next_action(tracker)
        probabilities = self._default_predictions(domain)
        if action is not None:
            probabilities[domain.index_for_action(action)] = 1.0
        # is_no_user_prediction=True goes against the flag's documented meaning ("the
        # prediction does not depend on the user's input": RulePolicy's own follow-ups
        # after an action), because this prediction does depend on the user's message.
        # It is used for what Rasa's ensemble does with it: a "no user" prediction
        # overrules every prediction that is not one, whatever their priorities and
        # confidences, so a rule or memorised story matching the same message can never
        # outvote the crisis reply. tests/test_fixed_policy.py fails if Rasa changes that.
        return self._prediction(probabilities, is_no_user_prediction=action is not None)
