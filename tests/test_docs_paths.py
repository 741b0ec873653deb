"""Every file path the docs name exists, so the docs cannot go stale silently.

Checked: README.md, docs/*.md, and the leading comment block (the header) of every file
under content/. A path is a token that looks like a repository path: it has a directory
(``kat/crisis.py``, ``tests/e2e/``) and/or a known extension (``config.yml``). In
Markdown, the tokens of inline code spans and fenced code blocks, and the targets of
links, are checked; in content headers, every word. Tokens with a known extension or a
trailing slash count everywhere; a token with a slash but neither counts only in an
inline code span, and only when its first folder is one of the repository's top-level
folders (``tests/e2e``, ``.ci/run``; but ``faq/side_effects`` is an intent, and in shell
commands ``rasa/rasa`` is a Helm chart).

Where a path is looked for: a link's target relative to the file that contains it (as
a Markdown viewer resolves it); any other token from the repository root, then from the
containing file's folder, then — for trees such as the README's map ("content/" with
``faq_sources.yml`` under it) and bare file names — as the end of any path in the
repository.

Skipped: URLs and anything with a colon (``host:port``), absolute paths (``/health``,
webhook paths), paths outside the repository (``../shared/...`` in code), generated or
local folders (var/, models/, build/, results/, artifacts/, .venv/, node_modules/),
placeholders (``utter_faq/<topic>``, ``data/rules/*.yml``, ``${VAR}``, ``...``) and
anchors.

No Rasa imports: this runs with the unit tests (``make check``).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent

KNOWN_EXTENSIONS = {
    "cfg",
    "css",
    "csv",
    "db",
    "Dockerfile",
    "gz",
    "html",
    "ini",
    "js",
    "json",
    "lock",
    "md",
    "png",
    "py",
    "sh",
    "toml",
    "txt",
    "yaml",
    "yml",
}
# Generated or local folders: named in the docs, absent from a fresh clone.
GENERATED = (
    "var/",
    "models/",
    "build/",
    "results/",
    "artifacts/",
    ".venv/",
    "node_modules/",
    "web/node_modules/",
    ".git/",
    ".rasa/",
)
PLACEHOLDER_MARKS = ("<", ">", "*", "{", "}", "...", "…", "$")
PATH_CHARS = re.compile(r"^[A-Za-z0-9_.\-/]+$")
LEADING = "([\"'`"
TRAILING = ")]\"'`.,;:!?"

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")

# Kinds of place a token was found.
CODE = "code"  # an inline code span: a slash is enough to be a path
BLOCK = "block"  # a fenced code block or a content header: extension or trailing /
LINK_TARGET = "link"


def _normalise(token: str) -> Optional[str]:
    """The path a token names, or None when it is not a checkable path."""
    if any(mark in token for mark in PLACEHOLDER_MARKS):
        return None
    token = token.strip().lstrip(LEADING).rstrip(TRAILING)
    token = token.split("::", 1)[0]  # tests/test_x.py::test_name
    token = token.split("#", 1)[0]  # docs/deploy.md#web-chat
    if not token:
        return None
    if not PATH_CHARS.match(token) or not re.search(r"[A-Za-z]", token):
        return None  # URLs, host:port, name=value, a|b, numbers ...
    if token.startswith(("/", "-", "~")):
        return None  # absolute paths, webhook paths, command-line flags
    while token.startswith("./"):
        token = token[2:]
    return token or None


def _has_known_extension(token: str) -> bool:
    name = token.rstrip("/").rsplit("/", 1)[-1]
    if "." not in name[1:]:
        return False
    return name.rsplit(".", 1)[1] in KNOWN_EXTENSIONS


def _looks_like_path(token: str, kind: str) -> bool:
    if _has_known_extension(token) or token.endswith("/"):
        return True
    # In code, `tests/e2e` or `.ci/run` is a path; `faq/side_effects` (an intent) is not.
    return kind == CODE and "/" in token and token.split("/", 1)[0] in top_level()


def _is_generated(relative: str) -> bool:
    if any(relative == g.rstrip("/") or relative.startswith(g) for g in GENERATED):
        return True
    return "/node_modules/" in f"/{relative}/"


def markdown_tokens(text: str) -> Iterator[Tuple[str, str]]:
    """(kind, raw token) for every code token and link target of a Markdown text."""
    prose: List[str] = []
    in_fence = False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            prose.append("")
            continue
        if in_fence:
            for word in line.split():
                yield BLOCK, word
            prose.append("")
        else:
            prose.append(line)
    body = "\n".join(prose)
    for paragraph in re.split(r"\n\s*\n", body):
        for span in INLINE_CODE.findall(paragraph):
            for word in span.split():
                yield CODE, word
        for target in LINK.findall(INLINE_CODE.sub("", paragraph)):
            yield LINK_TARGET, target


def header_lines(text: str) -> List[str]:
    """The leading comment block of a content file (lines starting with '#')."""
    lines: List[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            lines.append(stripped.lstrip("#"))
        elif stripped:
            break
    return lines


def header_tokens(text: str) -> Iterator[Tuple[str, str]]:
    for line in header_lines(text):
        for word in line.split():
            yield BLOCK, word


@lru_cache(maxsize=1)
def top_level() -> Set[str]:
    """Names of the repository's top-level files and folders."""
    return {path.name for path in ROOT.iterdir()}


@lru_cache(maxsize=1)
def repository_paths() -> Set[str]:
    """Every file and folder of the working tree (generated folders left out)."""
    found: Set[str] = set()
    for folder, subfolders, files in os.walk(ROOT):
        relative_folder = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if relative_folder == "." else relative_folder + "/"
        subfolders[:] = [
            name
            for name in subfolders
            if name != "__pycache__" and not _is_generated(prefix + name + "/")
        ]
        for name in subfolders:
            found.add(prefix + name + "/")
        for name in files:
            found.add(prefix + name)
    return found


def _inside_root(path: Path) -> Optional[str]:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return None


def _exists_somewhere(token: str) -> bool:
    """A path of the repository ends with this token (tree listings, bare names)."""
    wanted = token.rstrip("/")
    for path in repository_paths():
        path = path.rstrip("/")
        if path == wanted or path.endswith("/" + wanted):
            return True
    return False


def missing_paths(source: Path, text: str, header_only: bool = False) -> List[str]:
    """The paths named in ``text`` (from the file ``source``) that do not exist."""
    tokens = header_tokens(text) if header_only else markdown_tokens(text)
    folder = source.parent
    missing: List[str] = []
    for kind, raw in tokens:
        if kind == LINK_TARGET:
            if raw.startswith("#") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", raw):
                continue  # anchors, URLs, mailto: ...
            target = raw.split("#", 1)[0]
            if not target:
                continue
            relative = _inside_root(folder / target)
            if relative is None or _is_generated(relative):
                continue  # outside the repository, or generated
            if not (ROOT / relative).exists():
                missing.append(raw)
            continue
        token = _normalise(raw)
        if token is None or not _looks_like_path(token, kind):
            continue
        if token.startswith("../") or _is_generated(token):
            continue
        if (ROOT / token).exists() or (folder / token).exists():
            continue
        if _exists_somewhere(token):
            continue
        missing.append(token)
    return missing


def documentation_files() -> List[Path]:
    return [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def content_files() -> List[Path]:
    return sorted(
        path
        for path in (ROOT / "content").rglob("*")
        if path.is_file() and path.suffix in (".yml", ".yaml", ".txt")
    )


def named_paths() -> Tuple[int, List[str]]:
    """How many paths the docs name, and each one missing as "file: path"."""
    checked = 0
    missing: List[str] = []
    sources = [(p, False) for p in documentation_files()]
    sources += [(p, True) for p in content_files()]
    for source, header_only in sources:
        text = source.read_text(encoding="utf-8")
        tokens = header_tokens(text) if header_only else markdown_tokens(text)
        checked += sum(1 for _ in tokens)
        for path in missing_paths(source, text, header_only=header_only):
            missing.append(f"{source.relative_to(ROOT).as_posix()}: {path}")
    return checked, missing


def test_every_path_named_in_the_docs_and_content_headers_exists() -> None:
    checked, missing = named_paths()
    assert checked > 200, "the extractor found almost nothing: is it broken?"
    assert missing == [], "paths named in the docs that do not exist:\n  " + "\n  ".join(
        missing
    )


def test_the_docs_name_many_real_paths() -> None:
    """Guards the extractor itself: the README's map and recipes name real files."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    named = {
        token
        for kind, raw in markdown_tokens(text)
        if (token := _normalise(raw)) and _looks_like_path(token, kind)
    }
    for expected in (
        "content/safety/crisis_patterns.yml",
        "kat/handoff_rules.py",
        "docs/architecture.md",
        "scripts/make_credentials.py",
    ):
        assert expected in named


SAMPLE = """# Sample

Read by `kat/crisis.py`; checked by `tests/test_crisis.py` and `tests/safety/`.
See [the deploy guide](deploy.md#web-chat), [a missing page](nowhere.md),
[an anchor](#sample) and [a site](https://example.org/a/b.md).
Not checked: `var/rasa_jwt_secret`, `models/kat-assistant.tar.gz`, `utter_faq/<topic>`,
`data/rules/*.yml`, `../shared/source/clinic-info-sheet.txt`, `/webhooks/rest/webhook`,
`https://clinic.example/x.py`, `localhost:5005/status`, `${ENV}`, `faq/...`, and
`tests/e2e/test_faults_production.py::test_staff_reply`.

```sh
docker build -f deploy/docker/rasa.Dockerfile -t registry.example.org/kat/kat:1 .
helm install kat rasa/rasa -f deploy/helm/missing-values.yml
```
"""


def test_the_extractor_reports_exactly_the_missing_paths() -> None:
    missing = missing_paths(ROOT / "docs" / "sample.md", SAMPLE)
    assert sorted(missing) == [
        "deploy/helm/missing-values.yml",
        "nowhere.md",
        "tests/test_crisis.py",
    ]


def test_a_content_header_naming_a_missing_file_is_reported() -> None:
    header = (
        "# Read by kat/crisis.py (via components/safety_gate.py); tests/test_crisis.py\n"
        "# and the adversarial suite in tests/safety/ check every edit.\n"
        "version: 1\n"
        "# not in the header: tests/not_a_header_path.py\n"
    )
    source = ROOT / "content" / "safety" / "crisis_patterns.yml"
    assert missing_paths(source, header, header_only=True) == ["tests/test_crisis.py"]
