"""The example texts of a Rasa NLU training file, and the items of a blind evaluation
set (tests/understanding/blind_*.yml), read without Rasa.

One reader for the scripts and tests that compare sets of texts (held-out sets kept
apart from training, blind sets learned from, the language checker's English corpus).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List

import yaml


def nlu_examples(path: Path) -> Iterator[str]:
    """Yield each `- example` line of every block under `nlu:` in the file."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for block in data.get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield line[2:].strip()


def blind_set_items(data: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Every labelled item of a loaded blind set: its single messages, then each
    conversation's turns in order."""
    items = list(data.get("messages") or [])
    items += [t for c in data.get("conversations") or [] for t in c["turns"]]
    return items
