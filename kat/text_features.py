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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from scipy.sparse import csr_matrix, hstack

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


def _vectorizer(analyzer: str) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if analyzer == "word":
        return TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            token_pattern=WORD_PATTERN,
            sublinear_tf=True,
            dtype=np.float64,
        )
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        sublinear_tf=True,
        min_df=2,
        dtype=np.float64,
    )


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
        self.word = _vectorizer("word")
        self.char = _vectorizer("char")

    def fit(self, texts: Sequence[str]) -> TextFeatures:
        cleaned = [clean(t) for t in texts]
        self.word.fit(cleaned)
        self.char.fit(cleaned)
        return self

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        cleaned = [clean(t) for t in texts]
        blocks = [
            self.word.transform(cleaned) * self.weights.word,
            self.char.transform(cleaned) * self.weights.char,
        ]
        if self.embedder is not None and self.weights.meaning:
            blocks.append(csr_matrix(self.embedder.embed(cleaned) * self.weights.meaning))
        return csr_matrix(hstack(blocks, format="csr"))

    # --- storage (no pickle) -------------------------------------------------------------
    def save(self, directory: Path) -> None:
        state: Dict[str, Any] = {"weights": self.weights.__dict__}
        for name in ("word", "char"):
            vectorizer = getattr(self, name)
            state[f"{name}_vocabulary"] = {
                k: int(v) for k, v in vectorizer.vocabulary_.items()
            }
            np.save(directory / f"{name}_idf.npy", vectorizer.idf_)
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
            vectorizer = getattr(features, name)
            vectorizer.vocabulary_ = state[f"{name}_vocabulary"]
            vectorizer.idf_ = np.load(directory / f"{name}_idf.npy", allow_pickle=False)
        return features


def clean(text: str) -> str:
    """Lower case, curly quotes straightened, runs of whitespace joined."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def sentences(text: str, min_words: int = 3) -> List[str]:
    """The sentences of a message that have at least ``min_words`` words."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    return [p for p in parts if len(p.split()) >= min_words]
