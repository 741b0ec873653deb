"""Build the project's own spaCy pipeline: blank English + an EntityRuler.

The patterns come from the reviewed term list ``content/spacy/entities.yml``; nothing is
downloaded. The result is written to ``build/spacy/kat_en`` and loaded by Rasa's SpacyNLP
by path (see config.yml). Re-running with unchanged inputs does nothing.

Usage: python scripts/build_spacy_pipeline.py [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kat.entity_patterns import (  # noqa: E402
    find_ambiguous_phrases,
    iter_terms,
    load_term_list,
)
from kat.paths import content_dir, spacy_pipeline_dir  # noqa: E402

PIPELINE_NAME = "kat_en"
PIPELINE_VERSION = "1.0.0"


def inputs_fingerprint() -> str:
    import spacy

    digest = hashlib.sha256()
    digest.update(spacy.__version__.encode())
    digest.update(Path(__file__).read_bytes())
    digest.update((content_dir() / "spacy" / "entities.yml").read_bytes())
    return digest.hexdigest()


def build(out_dir: Path) -> int:
    import spacy

    terms = load_term_list()
    ambiguous = find_ambiguous_phrases(terms)
    if ambiguous:
        for phrase, owners in sorted(ambiguous.items()):
            print(f"ambiguous phrase {phrase!r} listed under {owners}", file=sys.stderr)
        raise SystemExit("content/spacy/entities.yml: each phrase must map to one id")

    nlp = spacy.blank("en")
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = PIPELINE_VERSION
    nlp.meta["description"] = "Blank English + EntityRuler from content/spacy/entities.yml"
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    patterns = [
        {"label": e.label, "pattern": e.phrase, "id": e.canonical_id}
        for e in iter_terms(terms)
    ]
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return len(patterns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if unchanged")
    args = parser.parse_args()

    out_dir = spacy_pipeline_dir()
    stamp = out_dir / ".fingerprint"
    fingerprint = inputs_fingerprint()
    if not args.force and stamp.exists() and stamp.read_text() == fingerprint:
        print(f"spaCy pipeline up to date: {out_dir}")
        return
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    count = build(out_dir)
    stamp.write_text(fingerprint)
    print(f"spaCy pipeline built: {out_dir} ({count} patterns)")


if __name__ == "__main__":
    main()
