"""The few replies a channel sends itself, when the assistant cannot answer.

Pure helper (no Rasa). The wording lives in ``domain.yml`` with every other reply
(``utter_channel_failed``, ``utter_channel_rate_limited``); the clinic's facts are filled
in from the clinic profile, as the NLG does for every other reply. Read once per
process (restart to pick up edits). Guarded by tests/test_channel_replies.py.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Optional

import yaml

from kat.clinic_profile import cached_profile, response_values
from kat.paths import PROJECT_ROOT

FAILED = "utter_channel_failed"
RATE_LIMITED = "utter_channel_rate_limited"


@cache
def _template(name: str, domain: Optional[str] = None) -> str:
    path = Path(domain) if domain else PROJECT_ROOT / "domain.yml"
    responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {})["responses"]
    return str(responses[name][0]["text"])


def reply(name: str, domain: Optional[str] = None) -> str:
    """The response ``name`` of domain.yml with the clinic's facts filled in."""
    return _template(name, domain).format(**response_values(cached_profile()))


def failure_reply() -> str:
    """What a channel sends when the assistant itself failed."""
    return reply(FAILED)


def rate_limited_reply() -> str:
    """What a channel sends instead of an answer to a client over its limit."""
    return reply(RATE_LIMITED)
