"""Reading the example texts of an NLU training file (kat/nlu_examples.py)."""

from __future__ import annotations

from pathlib import Path

from kat.nlu_examples import nlu_examples


def test_examples_of_every_block_are_read_and_other_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: greet\n"
        "  examples: |\n"
        "    - hi there\n"
        "    # a comment\n"
        "    -   hello  \n"
        "- synonym: ketamine\n"
        "- intent: goodbye\n"
        "  examples: |\n"
        "    - bye\n"
    )
    assert list(nlu_examples(path)) == ["hi there", "hello", "bye"]


def test_a_file_without_nlu_gives_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.yml"
    path.write_text("")
    assert list(nlu_examples(path)) == []
