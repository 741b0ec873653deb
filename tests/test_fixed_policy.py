"""components/fixed_policy.py leans on how Rasa's ensemble treats is_no_user_prediction.

The fixed policies mark their prediction "no user" so that nothing else can outvote it
(the comment in predict_action_probabilities says why, against the flag's documented
meaning). This fails if a Rasa upgrade changes how the ensemble picks the winner.
"""

from __future__ import annotations

import numpy as np
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


def test_a_no_user_prediction_beats_a_more_confident_higher_priority_one() -> None:
    domain = Domain.from_yaml(
        """
        version: "3.1"
        intents: [crisis]
        responses:
          utter_crisis_help: [{text: "help"}]
          utter_faq: [{text: "faq"}]
        """
    )
    tracker = DialogueStateTracker.from_events(
        "t", [ActionExecuted("action_listen"), UserUttered("x", {"name": "crisis"})]
    )
    size = domain.num_actions
    ours = np.zeros(size)
    ours[domain.index_for_action("utter_crisis_help")] = 0.6
    rules = np.zeros(size)
    rules[domain.index_for_action("utter_faq")] = 1.0
    winner = DefaultPolicyPredictionEnsemble().combine_predictions(
        [
            PolicyPrediction(list(rules), "RulePolicy", policy_priority=6),
            PolicyPrediction(
                list(ours), "SafetyPolicy", policy_priority=1, is_no_user_prediction=True
            ),
        ],
        tracker,
        domain,
    )
    assert winner.policy_name == "SafetyPolicy"
    assert domain.action_names_or_texts[int(np.argmax(winner.probabilities))] == (
        "utter_crisis_help"
    )
