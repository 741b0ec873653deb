"""Where content is found (kat/paths.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kat.paths import language_content


def test_a_language_file_is_found_only_for_a_language_that_has_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAT_CONTENT_DIR", str(tmp_path))
    (tmp_path / "safety").mkdir()
    (tmp_path / "safety" / "routing_patterns_es.yml").write_text("{}")
    (tmp_path / "safety" / "routing_patterns_en.yml").write_text("{}")
    assert language_content("safety/routing_patterns", "es") == (
        tmp_path / "safety" / "routing_patterns_es.yml"
    )
    assert language_content("safety/routing_patterns", "fr") is None
    # English always reads the unsuffixed file, even if a suffixed one lies around.
    assert language_content("safety/routing_patterns", "en") is None


def test_the_shipped_spanish_files_are_found() -> None:
    for name in ("not_covered", "safety/routing_patterns", "safety/crisis_patterns"):
        assert language_content(name, "es") is not None, name
