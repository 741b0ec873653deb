"""tests/conftest.py: with CI=true a skipped test fails, giving the skip's reason.

Runs a small test file in a separate pytest process with the project's hook, once
with CI=true and once without.
"""

from __future__ import annotations

import pytest

from tests.conftest import ROOT

pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

def test_needs_a_service():
    pytest.skip("redis is not reachable on 127.0.0.1:6379")

@pytest.mark.xfail(reason="known", strict=False)
def test_expected_failure():
    assert False

def test_plain():
    assert True
"""


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest("from tests.conftest import pytest_runtest_makereport  # noqa")
    pytester.makepyfile(test_sample=SKIPPING)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")


def test_a_skip_fails_in_ci_with_its_reason(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(pytester, monkeypatch, "true")
    result.assert_outcomes(failed=1, passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*skipped in CI*redis is not reachable*"])


def test_a_skip_stays_a_skip_outside_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(pytester, monkeypatch, "")
    result.assert_outcomes(skipped=1, passed=1, xfailed=1)
