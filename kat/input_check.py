"""Is a message something the assistant can read: English words, not markup or noise?

Pure helper (no Rasa). The safety gate asks it AFTER the crisis check, so a crisis
message is never answered with "I only speak English" or "I didn't understand".

- ``EMPTY``: nothing but whitespace or control characters.
- ``NOISE``: no words to read — only symbols or emoji, HTML/script markup, code- or
  JSON-like text, or a "word" longer than any real one. The NLU's guess for such text means nothing (session 1 saw
  ``<script>alert(1)</script>`` classified as clinical); it gets the calm "I'm not sure I
  understood" reply instead.
- ``OTHER_LANGUAGE``: mostly a non-Latin script, or distinctive words of another language
  (content/language.yml, reviewed) outweigh English ones.
- ``NUMBER``: only digits and phone punctuation ("2", "+1 415 555 8867"): an option
  number or an answer to the contact form, never a question for the NLU to guess at.
- ``READABLE``: everything else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, Optional

import yaml

from kat.paths import content_dir

READABLE = "readable"
EMPTY = "empty"
NOISE = "noise"
OTHER_LANGUAGE = "other_language"
NUMBER = "number"
_NUMBER_ONLY = re.compile(r"^[\d\s+().\-/#*x]*\d[\d\s+().\-/#*x]*$", re.I)

_TAG = re.compile(r"</?\s*[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?/?>")
_CODE_HINT = re.compile(r"(javascript:|on[a-z]+\s*=|\{\s*\"|\beval\(|\$\{|<\?php)", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Letters of the Latin script (basic, Latin-1, Latin Extended-A/B, IPA, Extended Additional).
_LATIN_RANGES = ((0x41, 0x24F), (0x250, 0x2AF), (0x1E00, 0x1EFF))


def clean_text(text: str) -> str:
    """Valid Unicode without NUL: lone surrogates (what broken UTF-8 decodes to) and
    undecodable bytes become U+FFFD, so every later step can store and encode it."""
    return (
        text.encode("utf-8", errors="surrogatepass")
        .decode("utf-8", errors="replace")
        .replace("\x00", "")
    )


def message_text(value: Any) -> str:
    """What a channel hands the assistant for a message field of any JSON type: text
    repaired by :func:`clean_text`, a number as its digits, anything else (null, a list,
    an object, true/false) as "" (answered like any unreadable message)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


# The longest message any channel hands the assistant: what WhatsApp and Telegram allow
# in one message (SMS and Messenger allow less, the web chat stops at 1,000). Beyond it
# a message is cut (cap_text); no real message is.
MAX_MESSAGE_CHARS = 4096
CUT_MARK = " [...] "


def cap_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` within ``limit`` characters: its beginning and its end, joined by
    :data:`CUT_MARK`. Both ends are kept because a crisis can be said first ("I want to
    die. Also ...") or last (a pasted story, then "I can't go on"), and the safety gate
    reads all of what is kept."""
    if len(text) <= limit:
        return text
    keep = limit - len(CUT_MARK)
    head = keep // 2
    return text[:head] + CUT_MARK + text[len(text) - (keep - head) :]


def strip_markup(text: str) -> str:
    """The text with HTML-like tags replaced by spaces ("<b>help</b>" -> " help ")."""
    return _TAG.sub(" ", text or "")


def _is_latin(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _LATIN_RANGES)


def fold_word(word: str) -> str:
    """Lower-case without accents, so "qué" and "que" count the same."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace(
        "’", "'"
    )


def english_evidence(config: Dict) -> FrozenSet[str]:
    """The English words that tell a message is English: ``english_words`` less the
    ``words_in_both`` that Spanish texting writes as often ("no", "me", "a", "ok")."""
    english = {fold_word(str(w)) for w in config.get("english_words") or []}
    shared = {fold_word(str(w)) for w in config.get("words_in_both") or []}
    return frozenset(english - shared)


@dataclass(frozen=True)
class InputCheck:
    kind: str
    language: Optional[str] = None  # for OTHER_LANGUAGE: the best guess, or "non-latin"


class InputChecker:
    def __init__(self, config: Dict) -> None:
        self.min_foreign = int(config.get("min_foreign_words", 2))
        self.ratio = float(config.get("foreign_to_english_ratio", 2))
        self.max_word = int(config.get("max_word_length", 45))
        self.english: FrozenSet[str] = english_evidence(config)
        self.foreign: Dict[str, FrozenSet[str]] = {
            language: frozenset(fold_word(str(w)) for w in words or [])
            for language, words in (config.get("foreign_words") or {}).items()
        }
        self.greetings: FrozenSet[str] = frozenset(
            fold_word(str(w)) for w in config.get("foreign_greetings") or []
        )
        # Letters English never writes (ñ, ã, ß, ł, ư, ệ ...): a word holding one counts
        # as a foreign word even when no list has it (Vietnamese, Polish, Czech ...).
        self.marked: FrozenSet[str] = frozenset(
            str(config.get("marked_letters") or "").replace(" ", "")
        )

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> InputChecker:
        path = path or content_dir() / "language.yml"
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {})

    def check(self, text: str) -> InputCheck:
        visible = "".join(
            c for c in (text or "") if unicodedata.category(c)[0] not in ("C", "Z")
        )
        if not visible:
            return InputCheck(EMPTY)
        if _TAG.search(text) or _CODE_HINT.search(text):
            return InputCheck(NOISE)
        if _NUMBER_ONLY.match(text.strip()):
            return InputCheck(NUMBER)
        letters = [c for c in visible if c.isalpha()]
        # Symbols, emoji or punctuation art with no word in them. (Digits are left to
        # the NLU: "2" picks an option, a phone number answers the contact form.)
        if not letters and not any(c.isdigit() for c in visible):
            return InputCheck(NOISE)
        words_raw = _WORD.findall(text)
        if words_raw and max(len(w) for w in words_raw) > self.max_word:
            return InputCheck(NOISE)  # "aaaa…" or pasted base64, not a word
        non_latin = sum(1 for c in letters if not _is_latin(c))
        if non_latin > 0.5 * len(letters):
            return InputCheck(OTHER_LANGUAGE, "non-latin")
        words = [fold_word(w) for w in words_raw]
        if words and " ".join(words) in self.greetings:
            return InputCheck(OTHER_LANGUAGE, "greeting")
        english = sum(1 for w in words if w in self.english)
        marked = [
            fold
            for raw, fold in zip(words_raw, words, strict=True)
            if any(c in self.marked or 0x1EA0 <= ord(c) <= 0x1EF9 for c in raw.lower())
        ]
        best, hits, listed_best = None, 0, 0
        for language, vocabulary in self.foreign.items():
            listed = sum(1 for w in words if w in vocabulary)
            if listed > listed_best:
                best, listed_best = language, listed
        if best:
            vocabulary = self.foreign[best]
            hits = listed_best + sum(1 for w in marked if w not in vocabulary)
        elif marked:
            best, hits = "marked-letters", len(marked)
        if hits >= self.min_foreign and hits >= self.ratio * english:
            return InputCheck(OTHER_LANGUAGE, best)
        return InputCheck(READABLE)


@lru_cache(maxsize=4)
def _checker(path: str) -> InputChecker:
    return InputChecker.from_file(Path(path))


def default_checker() -> InputChecker:
    return _checker(str(content_dir() / "language.yml"))
