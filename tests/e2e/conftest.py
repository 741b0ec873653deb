from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.harness import MODEL, Servers


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make test` (it trains first)")
    harness = Servers(workdir=Path(tmp_path_factory.mktemp("servers")))
    try:
        harness.start_actions()
        harness.start_rasa()
    except Exception:
        print(harness.log_tail("actions"), harness.log_tail("rasa"), sep="\n---\n")
        harness.stop_all()
        raise
    yield harness
    harness.stop_all()
