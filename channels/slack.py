"""Slack (Events API) with the request signature checked, answering 401 when it fails.

Rasa's SlackInput checks ``X-Slack-Signature`` (HMAC-SHA256 of ``v0:<timestamp>:<body>``
with the signing secret) and rejects timestamps more than five minutes old, but answers
400. This channel keeps Rasa's check and answers 401 before anything reaches the
assistant; it answers Slack's ``url_verification`` challenge as ``{"challenge": ...}``
(Rasa answers a bare JSON string, which is not one of the forms Slack documents). A
reply not answering an incoming message (the staff inbox's) goes to the patient, never
to the configured ``slack_channel``.

``SLACK_API_BASE`` replaces ``https://slack.com/api/`` — only for tests, which capture
replies on a local server instead of calling Slack.
"""

from __future__ import annotations

import os
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels import slack as rasa_slack
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from channels.base import PatientChannel


class ClinicSlackBot(rasa_slack.SlackBot):
    """Rasa's Slack output, with the API base overridable for tests."""

    def __init__(
        self,
        token: Text,
        slack_channel: Optional[Text] = None,
        thread_id: Optional[Text] = None,
        proxy: Optional[Text] = None,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        base = os.environ.get("SLACK_API_BASE")
        if base:
            self.client.base_url = base.rstrip("/") + "/"


class SlackInput(PatientChannel, rasa_slack.SlackInput):
    """Rasa's Slack channel; 401 for requests without a valid Slack signature, and the
    patient channel's guarantees (channels/base.py): conversations ``slack:<user id>``."""

    def get_output_channel(
        self, channel: Optional[Text] = None, thread_id: Optional[Text] = None
    ) -> OutputChannel:
        # An answer to a patient's message goes where it was written (Rasa passes the
        # event's channel). Without one (a staff reply through Rasa's HTTP API) it goes
        # to the patient: Rasa's own falls back to the configured slack_channel, which
        # would post a clinician's reply in the clinic's shared channel.
        return self.patient_output(
            ClinicSlackBot(self.slack_token, channel, thread_id, self.proxy)
        )

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        slack_webhook = super().blueprint(self.guard(on_new_message))

        @slack_webhook.middleware("request")
        async def check_signature(request: Request) -> Any:
            if request.method != "POST":
                return None
            if not self.is_request_from_slack_authentic(request):
                return response.text("invalid or missing X-Slack-Signature", status=401)
            if request.headers.get("content-type") == "application/json":
                body = request.json
                if isinstance(body, dict) and body.get("type") == "url_verification":
                    return response.json({"challenge": body.get("challenge", "")})
            return None

        return self.patient_blueprint(slack_webhook)
