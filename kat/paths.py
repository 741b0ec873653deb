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


# Everything in var/ is private to the user running the servers: conversations, tickets,
# secrets. Modes are set explicitly, whatever the umask (issue 15: they were 0644).
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; make it readable by its owner only."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def make_private(path: Path) -> None:
    """Owner-only mode for a file and an SQLite database's companion files."""
    for suffix in SQLITE_COMPANIONS:
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            os.chmod(candidate, PRIVATE_FILE_MODE)


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///...`` URL, or None for any other database."""
    prefix = "sqlite:///"
    return (
        Path(url[len(prefix) :])
        if url.startswith(prefix) and len(url) > len(prefix)
        else None
    )


def language_content(name: str, language: str) -> Path | None:
    """content/<name>_<language>.yml, the clinic's own file for a conversation language
    other than English; None for English or a language without one (the English file
    applies). One rule for the routing, coverage and crisis-spelling files."""
    if language == "en":
        return None
    path = content_dir() / f"{name}_{language}.yml"
    return path if path.exists() else None
