"""kat/channel_replies.py: the replies a channel sends itself come from domain.yml, with
the clinic's facts filled in."""

from __future__ import annotations

from typing import Any, Dict

from kat.channel_replies import failure_reply, rate_limited_reply


def test_the_calm_replies_are_domain_wording_with_the_emergency_numbers(
    domain: Dict[str, Any],
) -> None:
    for reply, name in (
        (failure_reply(), "utter_channel_failed"),
        (rate_limited_reply(), "utter_channel_rate_limited"),
    ):
        template = domain["responses"][name][0]["text"]
        assert "{" not in reply  # every {clinic_...} filled in
        assert "911" in reply and "988" in reply
        # Same words as the domain's response, around the filled-in facts.
        assert template.split("{")[0].strip() in reply
