"""kat/delivery.py and channels/base.py's PatientOutput: a failed staff reply always
raises with its reason; a failed ordinary reply is logged, and the turn goes on."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from channels.base import DeliveryFailed, PatientOutput
from kat import delivery


def test_a_reason_travels_in_an_error_message_and_back() -> None:
    for reason in delivery.REASONS:
        text = f"An unexpected error occurred. Error: {delivery.marker(reason)}"
        assert delivery.reason_in(text) == reason
    assert delivery.reason_in("An unexpected error occurred. Error: boom") is None
    assert delivery.reason_in(delivery.PREFIX + "made_up") is None
    with pytest.raises(ValueError):
        delivery.marker("made_up")
    assert delivery.explain(None) == delivery.REASONS["assistant_error"]


class Provider:
    """A provider's output whose API refuses everything (as the provider would)."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls: List[str] = []

    def name(self) -> str:
        return "twilio"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        self.calls.append(recipient_id)
        raise self.error


async def test_a_failed_staff_reply_raises_with_its_reason() -> None:
    output = PatientOutput(Provider(DeliveryFailed("whatsapp_window")), "twilio")
    staff = {"text": "hi", "utter_action": "utter_staff_reply"}
    with pytest.raises(DeliveryFailed) as raised:
        await output.send_response("whatsapp:+15551234567", staff)
    assert raised.value.reason == "whatsapp_window"
    # Any other provider error on a staff reply becomes a provider_error.
    output = PatientOutput(Provider(ConnectionError("refused")), "telegram")
    with pytest.raises(DeliveryFailed) as raised:
        await output.send_response("telegram:42", staff)
    assert raised.value.reason == "provider_error"


async def test_a_failed_ordinary_reply_is_logged_and_the_turn_goes_on(
    caplog: Any,
) -> None:
    provider = Provider(DeliveryFailed("provider_error"))
    output = PatientOutput(provider, "twilio")
    await output.send_response("sms:+15551234567", {"text": "the answer"})
    assert provider.calls == ["+15551234567"]
    assert "twilio reply not delivered: provider_error" in caplog.text
    assert "the answer" not in caplog.text
    # Errors that are no provider's refusal still propagate, as before.
    with pytest.raises(ConnectionError):
        await PatientOutput(Provider(ConnectionError()), "telegram").send_response(
            "telegram:42", {"text": "x"}
        )
