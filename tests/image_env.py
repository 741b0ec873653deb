"""A container image's Python environment, simulated from this project's virtualenv.

The Docker images install (almost) nothing beyond their base image: the Rasa image is
``rasa/rasa:3.6.21-full``, the action server's ``rasa/rasa-sdk:3.6.2`` plus a few
packages (deploy/docker/*.Dockerfile). Code that imports a package only this project's
virtualenv has would pass every other test and fail in production. ``image_site``
builds a folder holding only the distributions an image has: the dependency closure of
its base package (with extras), read from the installed packages' metadata, each
linked from this virtualenv's site-packages. A process started with ``python -S`` and
``PYTHONPATH=<that folder>:<the app folder>`` sees only those packages.

Limits (the same packages at this project's pins, not the image's exact versions):
``rasa[full]`` needs transformers, jieba and sentencepiece, which are not installed
here; transformers 4.36's own requirements (TRANSFORMERS_REQUIRES, from its
METADATA) stand in for it. A top-level name several distributions share (``google``)
comes whole.
"""

from __future__ import annotations

import os
import re
import shutil
from importlib import metadata
from pathlib import Path
from typing import Dict, Iterable, Set, Tuple

from packaging.requirements import Requirement

# transformers 4.36.2 (rasa[full]'s pin): Requires-Dist without extras.
TRANSFORMERS_REQUIRES = (
    "filelock",
    "huggingface-hub",
    "numpy",
    "packaging",
    "pyyaml",
    "regex",
    "requests",
    "tokenizers",
    "safetensors",
    "tqdm",
)


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(
    roots: Iterable[Tuple[str, Set[str]]]
) -> Tuple[Dict[str, Set[str]], Set[str]]:
    """(installed distributions reached from ``roots`` with their extras, names of
    required distributions not installed here)."""
    seen: Dict[str, Set[str]] = {}
    missing: Set[str] = set()
    todo = [(name, set(extras)) for name, extras in roots]
    while todo:
        name, extras = todo.pop()
        key = _key(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.add(key)
            continue
        if key in seen and extras <= seen[key]:
            continue
        seen[key] = seen.get(key, set()) | extras
        for line in dist.requires or []:
            req = Requirement(line)
            envs = [{"extra": e} for e in (extras or {""})]
            if req.marker and not any(req.marker.evaluate(env) for env in envs):
                continue
            todo.append((req.name, set(req.extras)))
    return seen, missing


def image_site(target: Path, roots: Iterable[Tuple[str, Set[str]]]) -> Set[str]:
    """Fill ``target`` with links to the closure's files; returns what is missing."""
    dists, missing = closure(roots)
    if "transformers" in missing:
        more, still = closure((name, set()) for name in TRANSFORMERS_REQUIRES)
        dists.update(more)
        missing = (missing - {"transformers"}) | still
    target.mkdir(parents=True, exist_ok=True)
    for key in dists:
        dist = metadata.distribution(key)
        base = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in tops:
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue
            source = base / top
            link = target / top
            if source.exists() and not link.exists():
                os.symlink(source, link)
    return missing


def copy_app(target: Path, root: Path, parts: Iterable[str]) -> None:
    """The files a Dockerfile COPYs into /app, copied (not linked: kat/paths.py finds
    the project root from its own location)."""
    for part in parts:
        source, dest = root / part, target / part
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest)
