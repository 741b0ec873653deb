"""Short follow-ups that lean on what the patient said earlier in the conversation.

A dialogue policy, ranked just below the SafetyPolicy (config.yml), above the rules.
Rasa's RulePolicy and MemoizationPolicy match the last few turns' intents only; they
cannot see that "so can I do it?" comes right after "I have afib", so the rules hand such
a bare eligibility question to a person as if nothing had been said. This policy looks at
the session's earlier messages:

* a clinical question whose only clinical topic is eligibility and that names no
  condition itself ("so can i do it?", "so am i out?"), after the patient named a
  condition earlier in this session -> ``action_check_contraindications``, which answers
  for the condition named earlier (it never clears anyone, and offers a person);
* a short reply right after a contraindication answer that the NLU cannot place on its
  own ("does that mean no?", "that was 8 years ago tho", "would he be able to do it
  too?") -> the contraindication check again, for the same condition.

Otherwise it abstains. Deterministic, no training. Crisis handling and open hand-offs
stay with the SafetyPolicy, which is ranked higher.
"""

from __future__ import annotations

from typing import Any, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components.fixed_policy import FixedPolicy, session_events

CHECK = "action_check_contraindications"
LISTEN = "action_listen"
CLINICAL = "clinical_question"
CONDITION = "CONDITION"
# How many earlier messages of the session may hold the condition.
LOOKBACK = 5
# A reply right after a contraindication answer, with one of these intents and at most
# SHORT_REPLY_WORDS words, is about that answer.
FOLLOW_UP_INTENTS = {
    "out_of_scope",
    "nlu_fallback",
    "affirm",
    "deny",
    "ask_contraindications",
    CLINICAL,
}
SHORT_REPLY_WORDS = 10


def _names_condition(event: UserUttered) -> bool:
    return any(e.get("entity") == CONDITION for e in event.entities or [])


def next_follow_up_action(tracker: DialogueStateTracker) -> Optional[Text]:
    """The action a follow-up needs, or None to let the other policies decide."""
    events = session_events(tracker)
    users = [i for i, e in enumerate(events) if isinstance(e, UserUttered)]
    if not users:
        return None
    latest: UserUttered = events[users[-1]]
    done = [
        e.action_name
        for e in events[users[-1] + 1 :]
        if isinstance(e, ActionExecuted) and e.action_name
    ]
    if CHECK in done:
        return LISTEN if done[-1] == CHECK else None
    intent = latest.intent or {}
    topics = (intent.get("safety_gate") or {}).get("topics") or []
    if _answered_with_check(events, users) and _short_follow_up(latest, topics):
        return CHECK
    if intent.get("name") != CLINICAL or list(topics) != ["eligibility"]:
        return None
    if _names_condition(latest):
        return None
    earlier = [events[i] for i in users[:-1]][-LOOKBACK:]
    if any(_names_condition(e) for e in earlier):
        return CHECK
    return None


def _answered_with_check(events: List[Any], users: List[int]) -> bool:
    """Whether the assistant's reply to the previous message was the contraindication
    check."""
    if len(users) < 2:
        return False
    return any(
        isinstance(e, ActionExecuted) and e.action_name == CHECK
        for e in events[users[-2] + 1 : users[-1]]
    )


def _short_follow_up(latest: UserUttered, topics: List[str]) -> bool:
    name = (latest.intent or {}).get("name")
    if (
        name not in FOLLOW_UP_INTENTS
        or len((latest.text or "").split()) > SHORT_REPLY_WORDS
    ):
        return False
    # A clinical question about anything but eligibility is a new question.
    return name != CLINICAL or list(topics) == ["eligibility"]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class FollowUpPolicy(FixedPolicy):
    """Follow-ups answered from the conversation's earlier messages (module docstring)."""

    @staticmethod
    def next_action(tracker: DialogueStateTracker) -> Optional[Text]:
        return next_follow_up_action(tracker)
