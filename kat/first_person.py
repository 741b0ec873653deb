"""The first-person word lists, one per language (content/first_person.yml).

Pure helper (no Rasa). Pattern files name the list they use (``first_person: en``)
instead of writing their own, so the routing, the crisis patterns and the medical
terms' roles agree on what makes a sentence about the writer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet

import yaml

from kat.paths import content_dir


@lru_cache(maxsize=4)
def _lists(path: str) -> Dict[str, FrozenSet[str]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {
        str(language): frozenset(str(w).lower() for w in words or [])
        for language, words in data.items()
        if language != "version"
    }


def words(reference: object) -> FrozenSet[str]:
    """The list a pattern file names (``en``, ``es``, ``none``)."""
    lists = _lists(str(content_dir() / "first_person.yml"))
    if not isinstance(reference, str) or reference not in lists:
        raise ValueError(
            f"first_person must name a list of content/first_person.yml "
            f"({', '.join(sorted(lists))}), not {reference!r}"
        )
    return lists[reference]
