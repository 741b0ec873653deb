"""The cached action-response validator accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from components import speedups

VALID = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "x", "value": 1}],
        "responses": [{"text": "hi"}],
    },
    {},
]
INVALID: list[Dict[str, Any]] = [
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"responses": "nope"},
    {"events": [{"event": 5}]},
]


def rasa_original(result: Dict[str, Any]) -> bool:
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    except jsonschema.ValidationError:
        return False
    return True


def test_same_verdicts_as_jsonschema_validate() -> None:
    speedups.install()
    action = RemoteAction("action_handoff", None)
    for result in VALID:
        assert rasa_original(result)
        assert action._validate_action_result(result) is True
    for result in INVALID:
        assert not rasa_original(result)
        with pytest.raises(jsonschema.ValidationError) as error:
            action._validate_action_result(result)
        assert "Failed to validate Action server response" in error.value.message


def test_install_is_idempotent_and_replaces_the_method() -> None:
    speedups.install()
    speedups.install()
    assert RemoteAction._validate_action_result is speedups._validate_action_result


def test_remembered_event_classes_match_rasas_lookup() -> None:
    """Every event type resolves to the class Rasa's own tree walk finds; unknown names
    still raise Rasa's error or return the default."""
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event, UserUttered

    def rasas_lookup(type_name: str, default: Any = None) -> Any:
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            if cls.type_name == type_name:
                return cls
        if default is not None:
            return default
        raise ValueError(f"Unknown event name '{type_name}'.")

    speedups.install()
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert {"user", "bot", "action", "slot", "session_started"} <= names
    for _ in range(2):  # first lookup walks the tree, the second is remembered
        for name in names:
            assert Event.resolve_by_type(name) is rasas_lookup(name)
    assert Event.resolve_by_type("no_such_event", UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
    assert "no_such_event" not in speedups._EVENT_CLASSES
    # A whole tracker round-trips through the remembered lookup.
    events = [UserUttered("hi", {"name": "greet"}).as_dict()]
    assert Event.from_parameters(events[0]) == UserUttered("hi", {"name": "greet"})


REALISTIC_VALID = [
    {
        "events": [
            {"event": "slot", "timestamp": None, "name": "ticket_id", "value": "T-1"},
            {"event": "active_loop", "name": None},
            {"event": "followup", "name": "action_listen"},
        ],
        "responses": [
            {"text": "A person will follow up.", "buttons": [], "custom": {}},
            {"response": "utter_handoff_done", "ticket": "T-1"},
        ],
    },
    {"events": [{"event": "session_started"}], "responses": []},
]
REALISTIC_INVALID: list[Dict[str, Any]] = [
    {"events": [{"event": "slot", "name": 5}]},
    {"events": None},
    {"responses": [5]},
]


def test_compiled_check_agrees_with_jsonschema() -> None:
    import fastjsonschema

    check = speedups._compiled_response_check()
    for result in VALID + REALISTIC_VALID + INVALID + REALISTIC_INVALID:
        try:
            check(result)
            fast = True
        except fastjsonschema.JsonSchemaException:
            fast = False
        assert fast == rasa_original(result), result


def test_valid_responses_skip_the_slow_validator(monkeypatch: Any) -> None:
    speedups.install()

    def slow() -> Any:
        raise AssertionError("jsonschema used for a valid response")

    monkeypatch.setattr(speedups, "_response_validator", slow)
    action = RemoteAction("action_handoff", None)
    for result in REALISTIC_VALID:
        assert action._validate_action_result(result) is True


# --- The graph runner without dask ------------------------------------------------------


class _Recorder:
    calls: List[str] = []


def _component(name: str, combine: Callable[..., Any]) -> Any:
    from rasa.engine.graph import GraphComponent

    class Node(GraphComponent):
        @classmethod
        def create(cls, *args: Any, **kwargs: Any) -> Any:
            return cls()

        def run(self, **kwargs: Any) -> Any:
            _Recorder.calls.append(name)
            return combine(**kwargs)

    Node.__name__ = f"Node_{name}"
    return Node


def _diamond_schema() -> Any:
    """message -> a, a -> b, a -> c, (b, c) -> d (target); e is not needed by d."""
    from rasa.engine.graph import GraphSchema, SchemaNode

    def node(name: str, needs: Dict[str, str], fn: Callable[..., Any], target=False):  # type: ignore[no-untyped-def]
        return SchemaNode(
            needs=needs,
            uses=_component(name, fn),
            constructor_name="create",
            fn="run",
            config={},
            eager=True,
            is_target=target,
        )

    return GraphSchema(
        {
            "a": node("a", {"text": "__message__"}, lambda text: text.upper()),
            "b": node("b", {"x": "a"}, lambda x: x + "-b"),
            "c": node("c", {"x": "a"}, lambda x: x + "-c"),
            "d": node(
                "d", {"left": "b", "right": "c"}, lambda left, right: [left, right], True
            ),
            "e": node("e", {"x": "a"}, lambda x: x + "-e"),
        }
    )


def test_graph_runs_give_what_dask_gives(tmp_path: Any) -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    schema = _diamond_schema()
    runner = DaskGraphRunner.create(
        schema, LocalModelStorage(tmp_path), ExecutionContext(schema, "test")
    )
    speedups.install()
    with_dask = speedups._DASK_RUN
    for targets in (None, ["d"], ["b", "e"], ["a", "d"]):
        _Recorder.calls = []
        expected = with_dask(runner, {"__message__": "hi"}, targets)
        dask_calls = sorted(_Recorder.calls)
        _Recorder.calls = []
        got = speedups.run_graph_directly(runner, {"__message__": "hi"}, targets)
        assert got == expected
        assert sorted(_Recorder.calls) == dask_calls  # each needed node once, no more
    assert expected == {"a": "HI", "d": ["HI-b", "HI-c"]}
    # Rasa's own input check still applies (an input value naming a node).
    with pytest.raises(GraphRunError):
        speedups.run_graph_directly(runner, {"__message__": "a"}, ["d"])
    assert DaskGraphRunner.run is speedups.run_graph_directly


def test_model_load_freezes_the_loaded_heap_and_unfreezes_before_the_next() -> None:
    """Objects alive after a model load leave the garbage collector's walks; loading
    another model first makes them collectable again."""
    import gc

    seen: List[int] = []

    def load_model(_agent: Any, path: str) -> str:
        seen.append(gc.get_freeze_count())
        return f"loaded {path}"

    gc.unfreeze()
    try:
        wrapped = speedups.freezing_after_load(load_model)
        assert wrapped(None, "first.tar.gz") == "loaded first.tar.gz"
        frozen = gc.get_freeze_count()
        assert seen == [0]
        assert frozen > 1000  # this test process's modules, classes, functions ...
        wrapped(None, "second.tar.gz")
        assert seen == [0, 0]  # unfrozen while the next model loads
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


def test_install_wraps_agent_load_model() -> None:
    from rasa.core.agent import Agent

    speedups.install()
    assert Agent.load_model.__name__ == "load_model"  # functools.wraps
    assert Agent.load_model.__wrapped__.__qualname__ == "Agent.load_model"


def test_uninstall_puts_rasas_originals_back() -> None:
    from rasa.core.agent import Agent
    from rasa.engine.runner.dask import DaskGraphRunner

    before = (
        RemoteAction.__dict__["_validate_action_result"],
        DaskGraphRunner.__dict__["run"],
        Agent.__dict__["load_model"],
    )
    assert speedups.install() and speedups.installed()
    assert DaskGraphRunner.__dict__["run"] is not before[1]
    speedups.uninstall()
    assert not speedups.installed()
    assert (
        RemoteAction.__dict__["_validate_action_result"],
        DaskGraphRunner.__dict__["run"],
        Agent.__dict__["load_model"],
    ) == before


def test_off_switch_and_another_rasa_version_leave_rasa_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import rasa
    from rasa.engine.runner.dask import DaskGraphRunner

    original = DaskGraphRunner.__dict__["run"]
    monkeypatch.setenv("KAT_RASA_PATCHES", "off")
    assert speedups.install() is False
    assert DaskGraphRunner.__dict__["run"] is original
    monkeypatch.delenv("KAT_RASA_PATCHES")
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with caplog.at_level("WARNING"):
        assert speedups.install() is False
    assert DaskGraphRunner.__dict__["run"] is original
    [warning] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "3.6.21" in warning.getMessage() and "3.7.0" in warning.getMessage()


def test_the_pinned_version_is_the_one_in_requirements() -> None:
    from pathlib import Path

    pins = (Path(__file__).resolve().parent.parent / "requirements.txt").read_text()
    assert f"rasa=={speedups.PINNED_RASA}" in pins
