"""staff_inbox/app.py: how a staff reply is addressed to the patient's conversation.

The Rasa side is a local receiver (tests/http_receiver.py) standing in for Rasa's HTTP
API: the test reads the exact path the inbox requested.
"""

from __future__ import annotations

import asyncio

import pytest

from staff_inbox.app import RasaClient
from tests.http_receiver import Receiver


@pytest.mark.parametrize(
    "conversation_id, path_segment",
    [
        ("web:abc123", "web:abc123"),  # ":" is no separator (the client may unquote it)
        ("x/../victim", "x%2F..%2Fvictim"),
        ("+15550100100", "%2B15550100100"),
        ("a?b#c", "a%3Fb%23c"),
        ("%2F..%2Fvictim", "%252F..%252Fvictim"),
    ],
)
def test_a_conversation_id_is_one_quoted_path_segment(
    conversation_id: str, path_segment: str
) -> None:
    receiver = Receiver()
    try:
        client = RasaClient(receiver.url, "x" * 40)
        asyncio.run(
            client.trigger(conversation_id, "staff_reply", {"staff_message": "hi"})
        )
        [post] = receiver.posts
        path = post["path"].split("?", 1)[0]
        assert path == f"/conversations/{path_segment}/trigger_intent"
    finally:
        receiver.close()
