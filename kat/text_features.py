"""What the intent classifier sees of a message: word and character n-grams plus meaning.

Three blocks, each scaled to unit length and then weighted, side by side in one sparse
row:

* word unigrams and bigrams (TF-IDF, sublinear counts): the exact words;
* character n-grams of 2-5 within word boundaries (TF-IDF): typos, texting spellings
  ("wat", "addictve", "u"), word endings;
* the mean of WordLlama's pretrained 256-d token embeddings (kat/embeddings below):
  meaning shared by words the training data never used ("knockout drug" near
  "anesthetic", "hooked" near "addictive").

Blind-measured on the FAQ topics (docs/understanding.md) the three together beat the
n-grams alone. Everything is stored as plain arrays and JSON (no pickle); nothing is
downloaded: the embedding matrix and tokenizer come from build/wordllama
(scripts/build_embeddings.py) at training time and are then kept inside the model.
No Rasa imports.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy.sparse import csr_matrix

WORDLLAMA_DIR = Path(__file__).resolve().parent.parent / "build" / "wordllama"
WEIGHTS_FILE = "l2_supercat_256.safetensors"
TOKENIZER_FILE = "l2_supercat_tokenizer_config.json"
WORD_PATTERN = r"(?u)\b\w+\b"
# Sentence ends for finding the question inside a long message.
_SENTENCE_END = re.compile(r"(?<=[.!?\n])\s+|\n+")


class Embedder:
    """Mean of WordLlama token embeddings, as ``wordllama.inference`` computes it:
    Llama-2 BPE without special tokens or truncation, look-up, mean, unit length."""

    def __init__(self, matrix: np.ndarray, tokenizer_json: str) -> None:
        from tokenizers import Tokenizer

        self.matrix = matrix
        self.tokenizer_json = tokenizer_json
        self.tokenizer = Tokenizer.from_str(tokenizer_json)
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.dim = int(matrix.shape[1])

    @classmethod
    def from_dir(cls, directory: Path = WORDLLAMA_DIR) -> Embedder:
        from safetensors.numpy import load_file

        weights = directory / WEIGHTS_FILE
        if not weights.exists():
            raise FileNotFoundError(
                f"{weights} is missing: run scripts/build_embeddings.py (set-up does)"
            )
        matrix = load_file(str(weights))["embedding.weight"]
        return cls(matrix, (directory / TOKENIZER_FILE).read_text(encoding="utf-8"))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            ids = self.tokenizer.encode(text, add_special_tokens=False).ids
            if not ids:
                continue
            vector = self.matrix[ids].astype(np.float32).mean(axis=0)
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                rows[i] = vector / norm
        return rows


class NgramBlock:
    """TF-IDF over word uni- and bigrams or character 2-5-grams within word boundaries,
    as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` computes them (smooth idf,
    ``1 + log(count)``, rows at unit length), written out so that one message costs a
    few dictionary look-ups instead of scikit-learn's general machinery (most of the
    classifier's time per message when it was used here; tests/test_linear_nlu.py
    checks the numbers against scikit-learn's)."""

    def __init__(self, kind: str, min_df: int = 1) -> None:
        if kind not in ("word", "char"):
            raise ValueError(kind)
        self.kind = kind
        self.min_df = min_df
        self.vocabulary: Dict[str, int] = {}
        self.idf = np.zeros(0)

    def grams(self, text: str) -> List[str]:
        if self.kind == "word":
            tokens = _WORD.findall(text)
            return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
        found: List[str] = []
        for word in text.split():
            padded = f" {word} "
            for n in range(2, 6):
                if len(padded) <= n:  # a short word counts once, as a whole
                    found.append(padded)
                    break
                found.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
        return found

    def fit(self, texts: Sequence[str]) -> NgramBlock:
        df: Counter = Counter()
        for text in texts:
            df.update(set(self.grams(text)))
        kept = sorted(g for g, count in df.items() if count >= self.min_df)
        self.vocabulary = {g: i for i, g in enumerate(kept)}
        n = len(texts)
        self.idf = np.array([np.log((1 + n) / (1 + df[g])) + 1.0 for g in kept])
        return self

    def row(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """(column indices, values) of one text's unit-length TF-IDF row."""
        counts = Counter(g for g in self.grams(text) if g in self.vocabulary)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        cols = np.fromiter((self.vocabulary[g] for g in counts), dtype=np.int64)
        tf = np.fromiter(counts.values(), dtype=np.float64)
        values = (1.0 + np.log(tf)) * self.idf[cols]
        return cols, values / np.linalg.norm(values)


_WORD = re.compile(WORD_PATTERN)


@dataclass
class FeatureWeights:
    word: float = 1.0
    char: float = 1.0
    meaning: float = 1.0


class TextFeatures:
    """Fits and applies the three blocks; saves and loads them as arrays and JSON."""

    def __init__(
        self, embedder: Optional[Embedder], weights: Optional[FeatureWeights] = None
    ) -> None:
        self.embedder = embedder
        self.weights = weights or FeatureWeights()
        self.word = NgramBlock("word")
        self.char = NgramBlock("char", min_df=2)

    @property
    def _with_meaning(self) -> bool:
        return self.embedder is not None and bool(self.weights.meaning)

    @property
    def width(self) -> int:
        meaning = self.embedder.dim if self.embedder and self._with_meaning else 0
        return len(self.word.vocabulary) + len(self.char.vocabulary) + meaning

    def fit(self, texts: Sequence[str]) -> TextFeatures:
        cleaned = [clean(t) for t in texts]
        self.word.fit(cleaned)
        self.char.fit(cleaned)
        return self

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        cleaned = [clean(t) for t in texts]
        meaning = (
            self.embedder.embed(cleaned) if self.embedder and self._with_meaning else None
        )
        chars_at = len(self.word.vocabulary)
        meaning_at = chars_at + len(self.char.vocabulary)
        indices: List[np.ndarray] = []
        data: List[np.ndarray] = []
        indptr = [0]
        for i, text in enumerate(cleaned):
            word_cols, word_values = self.word.row(text)
            char_cols, char_values = self.char.row(text)
            cols = [word_cols, char_cols + chars_at]
            values = [word_values * self.weights.word, char_values * self.weights.char]
            if meaning is not None:
                nonzero = np.flatnonzero(meaning[i])
                cols.append(nonzero + meaning_at)
                values.append(meaning[i][nonzero] * self.weights.meaning)
            indices.append(np.concatenate(cols))
            data.append(np.concatenate(values))
            indptr.append(indptr[-1] + len(indices[-1]))
        return csr_matrix(
            (np.concatenate(data), np.concatenate(indices), np.array(indptr)),
            shape=(len(cleaned), self.width),
        )

    # --- storage (no pickle) -------------------------------------------------------------
    def save(self, directory: Path) -> None:
        state: Dict[str, Any] = {"weights": self.weights.__dict__}
        for name in ("word", "char"):
            block = getattr(self, name)
            state[f"{name}_vocabulary"] = block.vocabulary
            np.save(directory / f"{name}_idf.npy", block.idf)
        (directory / "features.json").write_text(json.dumps(state), encoding="utf-8")
        if self.embedder is not None:
            np.save(directory / "embedding.npy", self.embedder.matrix)
            (directory / "tokenizer.json").write_text(
                self.embedder.tokenizer_json, encoding="utf-8"
            )

    @classmethod
    def load(cls, directory: Path) -> TextFeatures:
        state = json.loads((directory / "features.json").read_text(encoding="utf-8"))
        embedder = None
        if (directory / "embedding.npy").exists():
            embedder = Embedder(
                np.load(directory / "embedding.npy", allow_pickle=False),
                (directory / "tokenizer.json").read_text(encoding="utf-8"),
            )
        features = cls(embedder, FeatureWeights(**state["weights"]))
        for name in ("word", "char"):
            block = getattr(features, name)
            block.vocabulary = state[f"{name}_vocabulary"]
            block.idf = np.load(directory / f"{name}_idf.npy", allow_pickle=False)
        return features


def clean(text: str) -> str:
    """Lower case, curly quotes straightened, runs of whitespace joined."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def sentences(text: str, min_words: int = 3) -> List[str]:
    """The sentences of a message that have at least ``min_words`` words."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    return [p for p in parts if len(p.split()) >= min_words]
