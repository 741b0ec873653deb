"""Response generator that fills ``{clinic_<key>}`` from the clinic profile.

Configured in endpoints.yml (``nlg: type: components.profile_nlg.ClinicProfileNLG``). It is
Rasa's own templated generator plus the clinic profile as extra variables, so greeting,
clinic facts and emergency numbers come from content/clinic_profile.yml without the
action server: a clinic elsewhere edits one file, and a crisis reply never depends on a
second process being up.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from components import speedups
from kat.clinic_profile import cached_profile, response_values


class ClinicProfileNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated NLG with the clinic profile's values available to every reply."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        domain: Optional[Domain] = None,
    ) -> None:
        domain = domain or Domain.empty()
        super().__init__(domain.responses)
        # The Rasa server builds its NLG once at start-up: the place to apply the
        # measured hot-path fixes (components/speedups.py).
        speedups.install()
        self._profile_values = response_values(cached_profile())

    def generate_from_slots(
        self,
        utter_action: str,
        filled_slots: Dict[str, Any],
        output_channel: str,
        **kwargs: Any,
    ) -> Optional[Dict[str, Any]]:
        values = {**self._profile_values, **kwargs}
        return super().generate_from_slots(
            utter_action, filled_slots, output_channel, **values
        )
