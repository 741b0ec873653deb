"""Check that a requirements file pins everything its pins need.

    python scripts/check_requirements.py [requirements.txt]

Set-up installs the pins with ``--no-deps``, so a package one of them requires but the
file does not pin would simply be missing (``pip check`` then fails, as it did when
``pluggy`` was pinned only in the dev set). For every pinned distribution installed in
this environment, this reads its declared requirements (``Requires-Dist``, markers
evaluated for this Python, extras ignored) and fails listing each one the file does
not pin. ``-r other.txt`` lines are followed, so the dev set is checked as a whole.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> Dict[str, str]:
    """``{canonical name: version}`` of every ``name==version`` line (following -r)."""
    pins: Dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pins.update(read_pins(path.parent / line[3:].strip()))
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise ValueError(f"{path.name}: not pinned with ==: {raw!r}")
        pins[canonical(name)] = version.strip()
    return pins


def needed_by(requires: Iterable[str]) -> Set[str]:
    """Names of the requirements that apply here (no extras; markers evaluated)."""
    names: Set[str] = set()
    for text in requires:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is not None and not marker.evaluate({"extra": ""}):
            continue
        names.add(canonical(requirement.name))
    return names


def missing_pins(pins: Dict[str, str]) -> List[Tuple[str, str]]:
    """(pinned package, required distribution) pairs where the second is not pinned."""
    missing: List[Tuple[str, str]] = []
    for name in sorted(pins):
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here (e.g. the dev set checked from a runtime venv)
        for needed in sorted(needed_by(requires) - set(pins)):
            missing.append((name, needed))
    return missing


def main(argv: List[str]) -> int:
    path = Path(argv[0]) if argv else ROOT / "requirements.txt"
    missing = missing_pins(read_pins(path))
    for package, needed in missing:
        print(f"{path.name}: {package} requires {needed}, which is not pinned there")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
