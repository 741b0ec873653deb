"""scripts/check_requirements.py: the runtime pins are complete on their own."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import check_requirements  # noqa: E402


def test_runtime_requirements_pin_everything_their_pins_require() -> None:
    pins = check_requirements.read_pins(ROOT / "requirements.txt")
    assert check_requirements.missing_pins(pins) == []


def test_dev_requirements_pin_everything_too() -> None:
    pins = check_requirements.read_pins(ROOT / "requirements-dev.txt")
    assert check_requirements.missing_pins(pins) == []


def test_a_missing_pin_is_reported(tmp_path: Path) -> None:
    # rasa-sdk needs (among others) pluggy and sanic: a file pinning only rasa-sdk
    # must name them.
    partial = tmp_path / "requirements.txt"
    partial.write_text("rasa-sdk==3.6.2\n")
    missing = check_requirements.missing_pins(check_requirements.read_pins(partial))
    needed = {name for package, name in missing if package == "rasa-sdk"}
    assert {"pluggy", "sanic"} <= needed


def test_markers_and_extras_are_evaluated() -> None:
    names = check_requirements.needed_by(
        [
            "pluggy<2,>=1",
            'pytest ; extra == "testing"',
            'tomli ; python_version < "3.0"',
        ]
    )
    assert names == {"pluggy"}
