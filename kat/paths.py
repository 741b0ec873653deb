"""Where the project's content and build outputs live (relative to the project root)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def content_dir() -> Path:
    """Folder of clinician-reviewed content; ``KAT_CONTENT_DIR`` overrides it (tests)."""
    return Path(os.environ.get("KAT_CONTENT_DIR", PROJECT_ROOT / "content"))


def build_dir() -> Path:
    return Path(os.environ.get("KAT_BUILD_DIR", PROJECT_ROOT / "build"))


def spacy_pipeline_dir() -> Path:
    return build_dir() / "spacy" / "kat_en"
