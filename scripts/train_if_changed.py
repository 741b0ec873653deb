"""Train the Rasa model only when its inputs changed.

Inputs: config.yml, domain.yml, data/, content/spacy/, components/ and
kat/text_features.py (the classifier's features). Their digest is
stored beside the model; an unchanged digest skips training. ``--force`` always trains.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "models"
MODEL_NAME = "kat-assistant"
LOG = ROOT / "build" / "logs" / "train.log"
INPUTS = [
    "config.yml",
    "domain.yml",
    "data",
    "content/spacy",
    "components",
    "kat/text_features.py",
]


def training_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = ROOT / name
        files = (
            sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        )
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()

    model = MODEL_DIR / f"{MODEL_NAME}.tar.gz"
    stamp = MODEL_DIR / f"{MODEL_NAME}.fingerprint"
    fingerprint = training_fingerprint()
    if (
        not args.force
        and model.exists()
        and stamp.exists()
        and stamp.read_text() == fingerprint
    ):
        print(f"\033[1m==> Model up to date\033[0m ({model.relative_to(ROOT)})")
        return
    print(
        "\033[1m==> Training the model\033[0m (data or config changed; 5-7 minutes on 2 cores)"
        " ... ",
        end="",
        flush=True,
    )
    MODEL_DIR.mkdir(exist_ok=True)
    LOG.parent.mkdir(parents=True, exist_ok=True)
    rasa = Path(sys.executable).with_name("rasa")
    cmd = [
        str(rasa),
        "train",
        "--fixed-model-name",
        MODEL_NAME,
        "--out",
        str(MODEL_DIR),
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        "data",
    ]
    started = time.monotonic()
    with open(LOG, "w", encoding="utf-8") as log:
        # Rasa's training output (progress bars, third-party warnings) goes to the log;
        # on failure the whole log is printed: an error is never hidden.
        done = subprocess.run(
            cmd, cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT
        )
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        print(
            f"FAILED after {elapsed:.0f}s. Its output, also in {LOG.relative_to(ROOT)}:"
        )
        sys.stdout.write(LOG.read_text(encoding="utf-8", errors="replace"))
        raise SystemExit(done.returncode)
    stamp.write_text(fingerprint)
    print(f"done ({elapsed:.0f}s): {model.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
