"""Measured fixes for slow spots in Rasa 3.6's hot path (see docs/performance.md).

Rasa checks every action server response with ``jsonschema.validate(result, spec)``,
which first validates the *schema itself* against the JSON-Schema meta-schema and builds
a new validator — for every custom action call. Under load that was 29 % of the Rasa
server's CPU time (py-spy, 10 simulated patients). :func:`install` makes
``RemoteAction._validate_action_result`` use one validator built once for Rasa's own,
fixed response schema: same checks, same error, same message. Even built once, that
validator walked the schema for ~2 ms per call, so a valid response is now first
checked by the same schema compiled to plain Python (fastjsonschema, ~50x faster); only
a response it rejects goes through jsonschema, which then makes Rasa's exact error (and
has the last word: if it finds nothing wrong, the response passes).

Rasa turns every stored event back into an object with ``Event.resolve_by_type``, which
walks the whole ``Event`` class tree (and asks ``inspect.isabstract`` of each class) for
every event of every message: with trackers loaded from the database on each message
that was 15 % of the server's CPU (cProfile). :func:`install` remembers each type
name's class once found; unknown names still go to Rasa's own lookup (and its error).

Rasa runs its NLU and policy graphs through ``dask.get`` for every message and every
predicted action (three or four runs per message). The graphs are small chains executed
in one thread, and dask's scheduling bookkeeping cost more than some of the nodes it ran
(about a sixth of the Rasa server's CPU with cProfile). :func:`install` makes
``DaskGraphRunner.run`` evaluate the same nodes, with the same inputs, directly: each
needed node once, after the nodes it needs, results returned as dask returned them.

Python's cyclic garbage collector walks every tracked object in the process on each
full (generation 2) collection. The Rasa server holds about 580,000 of them once
TensorFlow, spaCy, scikit-learn and the model are loaded, none of which ever become
garbage, so each full collection stopped the event loop for 100-350 ms, every second or
two under load: the main cause of the web chat's slow 95th percentile (every patient in
flight waits). :func:`install` makes ``Agent.load_model`` collect once and then
``gc.freeze()`` everything loaded so far: frozen objects are left out of later
collections, which then walk only what the conversations created (10-45 ms; measured
in docs/performance.md). Loading another model unfreezes first, so the previous
model's objects can still be collected.

These replace Rasa internals (``DaskGraphRunner.run`` even reads its private
attributes), so they are fenced: :func:`install` applies them only on the Rasa version
they were measured on (:data:`PINNED_RASA`; any other gets one warning line and Rasa's
own code), never with ``KAT_RASA_PATCHES=off``, and :func:`uninstall` puts Rasa's
originals back (tests/conftest.py does after every test). The Rasa launcher installs
them (scripts/rasa_run.py), before the model is loaded; nothing installs them on
import. Revisit when upgrading Rasa (later versions cache the validator themselves).
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import os
from functools import lru_cache, wraps
from typing import Any, Callable, Dict, List, Optional, Tuple

# The Rasa version these were measured on and written against (requirements.txt).
PINNED_RASA = "3.6.21"
SWITCH = "KAT_RASA_PATCHES"

logger = logging.getLogger(__name__)

_INSTALLED = False
_DASK_RUN: Any = None  # Rasa's own DaskGraphRunner.run, kept for comparison in tests
_EVENT_CLASSES: Dict[str, Any] = {}
# (owner, attribute, Rasa's original) for each replaced attribute, for uninstall().
_ORIGINALS: List[Tuple[Any, str, Any]] = []


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)  # once, instead of on every call
    return cls(spec)


@lru_cache(maxsize=1)
def _compiled_response_check() -> Callable[[Any], Any]:
    import fastjsonschema
    from rasa.core.actions.action import RemoteAction

    return fastjsonschema.compile(RemoteAction.action_response_format_spec())


def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
    import fastjsonschema
    from jsonschema import ValidationError, exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    try:
        _compiled_response_check()(result)
        return True
    except fastjsonschema.JsonSchemaException:
        pass  # jsonschema decides, and words the error as Rasa does
    error = exceptions.best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def remembering_resolve_by_type(
    resolve: Callable[[str, Optional[Any]], Optional[Any]],
) -> Callable[..., Optional[Any]]:
    """``resolve`` (Rasa's ``Event.resolve_by_type``) with found classes remembered."""

    def resolve_by_type(type_name: str, default: Optional[Any] = None) -> Optional[Any]:
        known = _EVENT_CLASSES.get(type_name)
        if known is not None:
            return known
        found = resolve(type_name, default)
        if found is not None and getattr(found, "type_name", None) == type_name:
            _EVENT_CLASSES[type_name] = found
        return found

    return resolve_by_type


def run_graph_directly(
    self: Any,
    inputs: Optional[Dict[str, Any]] = None,
    targets: Optional[List[str]] = None,
) -> Dict[str, Any]:
    """``DaskGraphRunner.run`` without dask: evaluate the targets' nodes in order."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = targets if targets else self._graph_schema.target_names
    schema = self._graph_schema.minimal_graph_schema(run_targets)
    provided: Dict[str, Any] = {name: None for name in schema.nodes}
    # Rasa's own check (an input named like a node) and its (name, value) pairs.
    self._add_inputs_to_graph(inputs, provided)
    given = {name: pair for name, pair in provided.items() if name not in schema.nodes}
    results: Dict[str, Any] = {}

    def value(key: str) -> Any:
        if key in results:
            return results[key]
        if key in given:
            return given[key]
        node = schema.nodes.get(key)
        if node is None:
            return key  # dask passes a name it cannot resolve on as a string
        needed = [value(dependency) for dependency in node.needs.values()]
        results[key] = self._instantiated_nodes[key](*needed)
        return results[key]

    try:
        return dict(value(target) for target in run_targets)
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error


def freezing_after_load(load_model: Callable[..., Any]) -> Callable[..., Any]:
    """``load_model`` (Rasa's ``Agent.load_model``) that freezes the loaded heap.

    Unfreezes first: the objects of a model loaded before become collectable again
    (they would otherwise stay in memory for good once unreachable).
    """

    @wraps(load_model)
    def load_model_and_freeze(*args: Any, **kwargs: Any) -> Any:
        gc.unfreeze()
        result = load_model(*args, **kwargs)
        gc.collect()
        gc.freeze()
        return result

    return load_model_and_freeze


def install() -> bool:
    """Install the speed-ups (idempotent); False when fenced off (module docstring)."""
    global _INSTALLED, _DASK_RUN
    if _INSTALLED:
        return True
    if os.environ.get(SWITCH, "on").strip().lower() in ("off", "0", "false", "no"):
        logger.info("Rasa patches off (%s=off): Rasa's own code runs", SWITCH)
        return False
    import rasa

    if rasa.__version__ != PINNED_RASA:
        logger.warning(
            "Rasa patches skipped: written for Rasa %s, this is %s (components/speedups.py)",
            PINNED_RASA,
            rasa.__version__,
        )
        return False
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import Event

    replaced = [
        (DaskGraphRunner, "run"),
        (Event, "resolve_by_type"),
        (Agent, "load_model"),
    ]
    # The response check needs fastjsonschema (requirements.txt); an environment
    # without it (Rasa's own image) keeps Rasa's check.
    fast_check = importlib.util.find_spec("fastjsonschema") is not None
    if fast_check:
        replaced.append((RemoteAction, "_validate_action_result"))
    else:
        logger.warning("fastjsonschema not installed: Rasa's action response check")
    _ORIGINALS[:] = [(owner, name, owner.__dict__[name]) for owner, name in replaced]
    if fast_check:
        RemoteAction._validate_action_result = _validate_action_result
    _DASK_RUN = DaskGraphRunner.run
    DaskGraphRunner.run = run_graph_directly
    Event.resolve_by_type = staticmethod(
        remembering_resolve_by_type(Event.resolve_by_type)
    )
    # Installed before the first model is loaded: that model is frozen too.
    Agent.load_model = freezing_after_load(Agent.load_model)
    _INSTALLED = True
    return True


def uninstall() -> None:
    """Put Rasa's originals back (idempotent)."""
    global _INSTALLED
    for owner, attribute, original in reversed(_ORIGINALS):
        setattr(owner, attribute, original)
    _ORIGINALS.clear()
    _EVENT_CLASSES.clear()
    _INSTALLED = False


def installed() -> bool:
    return _INSTALLED
