"""The advisory checker: today's pins pass, a vulnerable pin fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from check_advisories import check, load_advisories, main, read_pins  # noqa: E402

ADVISORIES = ROOT / "security" / "advisories.yml"


def test_current_pins_pass() -> None:
    assert main([]) == 0
    # and the same through the command line, as scripts/test.sh runs it
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_advisories.py")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout


def test_rasa_before_3_6_21_fails(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fake = tmp_path / "requirements.txt"
    fake.write_text("# old\nrasa==3.6.20\nrequests==2.34.2\n")
    assert main([str(fake)]) == 1
    assert "CVE-2024-49375" in capsys.readouterr().out
    fake.write_text("rasa==3.6.21\n")
    assert main([str(fake)]) == 0


def test_includes_names_and_unpinned(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("Jinja2==3.1.5\n")
    dev = tmp_path / "dev.txt"
    dev.write_text("-r base.txt\nsanic>=21\npsycopg2-binary[extra]==2.9.13\n")
    pins, unpinned = read_pins(dev)
    assert pins == {"jinja2": "3.1.5", "psycopg2-binary": "2.9.13"}
    assert unpinned == ["dev.txt: sanic>=21"]
    failures, _ = check(pins, load_advisories(ADVISORIES))
    assert [f for f in failures if "CVE-2025-27516" in f]
    assert main([str(dev)]) == 1


def test_accepted_needs_a_reason_and_ranges_must_parse(tmp_path: Path) -> None:
    bad = tmp_path / "a.yml"
    bad.write_text(
        "advisories:\n  - {package: x, id: X-1, affected: '<2', fixed: '2', accepted: ''}\n"
    )
    with pytest.raises(ValueError):
        load_advisories(bad)
    bad.write_text(
        "advisories:\n  - {package: x, id: X-1, affected: 'not a range', fixed: '2'}\n"
    )
    with pytest.raises(ValueError):
        load_advisories(bad)
    ok = tmp_path / "b.yml"
    ok.write_text(
        "advisories:\n  - {package: x, id: X-1, affected: '<2', fixed: '2', "
        "accepted: 'not used'}\n"
    )
    failures, accepted = check({"x": "1.0"}, load_advisories(ok))
    assert failures == [] and len(accepted) == 1
