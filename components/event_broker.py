"""The production event stream (RabbitMQ), without message text.

Rasa's ``PikaEventBroker`` publishes every event as the tracker holds it: what the
patient typed, every reply, the NLU's reading with its entities, and every slot's
value, contact details included. This subclass publishes each event through
``kat.event_privacy.for_broker`` first: intents, actions, slot names and times stay;
text goes, unless ``KAT_BROKER_INCLUDE_TEXT=true`` (docs/privacy.md); the contact form's
answers never go. Same configuration keys as ``type: pika``
(endpoints.production.yml).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.brokers.pika import PikaEventBroker

from kat.event_privacy import for_broker, include_text


class TextFreePikaEventBroker(PikaEventBroker):
    """``PikaEventBroker`` that publishes events without message text."""

    def publish(
        self, event: Dict[Text, Any], headers: Optional[Dict[Text, Text]] = None
    ) -> None:
        super().publish(for_broker(event, with_text=include_text()), headers)
