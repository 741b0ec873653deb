"""Reading the example texts of an NLU training file (kat/nlu_examples.py)."""

from __future__ import annotations

from pathlib import Path

from kat.nlu_examples import blind_set_items, nlu_examples


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


def test_a_blind_set_gives_its_messages_then_each_conversations_turns() -> None:
    data = {
        "messages": [{"text": "what is ketamine", "expect": "faq"}],
        "conversations": [
            {"id": "c01", "turns": [{"text": "i have afib"}, {"text": "so can i?"}]},
            {"id": "c02", "turns": [{"text": "hi"}]},
        ],
    }
    texts = [item["text"] for item in blind_set_items(data)]
    assert texts == ["what is ketamine", "i have afib", "so can i?", "hi"]
    assert blind_set_items({}) == []
