"""Fail if a pinned dependency lies in a known advisory's affected range.

Usage: .venv/bin/python scripts/check_advisories.py [requirements files...]
        [--advisories security/advisories.yml]

Reads the pins (``name==version``, following ``-r`` includes) of requirements.txt and
requirements-dev.txt by default, and the reviewed list in security/advisories.yml.
A pin inside an ``affected`` range fails unless the entry has an ``accepted:`` reason;
an unpinned requirement fails too (it cannot be checked). Offline and by version only:
run ``pip-audit`` as well when online (docs/security.md).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_FIELDS = ("package", "id", "affected", "fixed")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> Tuple[Dict[str, str], List[str]]:
    """({package: version}, [requirements that are not pinned with ==])."""
    pins: Dict[str, str] = {}
    unpinned: List[str] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            more, loose = read_pins(path.parent / line.split(None, 1)[1])
            pins.update(more)
            unpinned += loose
            continue
        match = re.fullmatch(
            r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*(\S+)", line
        )
        if match:
            pins[canonical(match.group(1))] = match.group(3)
        else:
            unpinned.append(f"{path.name}: {line}")
    return pins, unpinned


def load_advisories(path: Path) -> List[Dict[str, Any]]:
    entries = (yaml.safe_load(path.read_text()) or {}).get("advisories") or []
    for entry in entries:
        missing = [f for f in REQUIRED_FIELDS if not entry.get(f)]
        if missing:
            raise ValueError(f"{path}: entry {entry!r} lacks {missing}")
        SpecifierSet(str(entry["affected"]))  # raises on a malformed range
        if "accepted" in entry and not str(entry["accepted"] or "").strip():
            raise ValueError(f"{path}: {entry['id']} has an empty accepted reason")
    return list(entries)


def check(
    pins: Dict[str, str], advisories: List[Dict[str, Any]]
) -> Tuple[List[str], List[str]]:
    """(failures, accepted findings) as printable lines."""
    failures: List[str] = []
    accepted: List[str] = []
    for entry in advisories:
        name = canonical(str(entry["package"]))
        version = pins.get(name)
        if version is None:
            continue
        if Version(version) not in SpecifierSet(str(entry["affected"])):
            continue
        line = (
            f"{name}=={version}: {entry['id']} (affected {entry['affected']}, "
            f"fixed in {entry['fixed']})"
        )
        if entry.get("accepted"):
            accepted.append(line + " - accepted: " + " ".join(entry["accepted"].split()))
        else:
            failures.append(line)
    return failures, accepted


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "requirements",
        nargs="*",
        type=Path,
        default=[ROOT / "requirements.txt", ROOT / "requirements-dev.txt"],
    )
    parser.add_argument(
        "--advisories", type=Path, default=ROOT / "security" / "advisories.yml"
    )
    args = parser.parse_args(argv)
    pins: Dict[str, str] = {}
    unpinned: List[str] = []
    for path in args.requirements:
        more, loose = read_pins(path)
        pins.update(more)
        unpinned += loose
    failures, accepted = check(pins, load_advisories(args.advisories))
    for line in accepted:
        print(f"accepted  {line}")
    for line in unpinned:
        print(f"UNPINNED  {line}")
    for line in failures:
        print(f"VULNERABLE {line}")
    ok = not failures and not unpinned
    print(
        f"{len(pins)} pins checked: {len(failures)} vulnerable, {len(unpinned)} unpinned,"
        f" {len(accepted)} accepted" + ("" if ok else " - FAILED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
