"""The web chat's whole stack for end-to-end tests: actions, Rasa (the project's
credentials, so the secured socket.io channel), the staff inbox and the web chat's page,
with staff users, clinic profile values and more allowed origins as a test needs them.
One start-up for test_webchat_e2e, the patient-side and the accessibility tests."""

from __future__ import annotations

import json
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Sequence

import pytest

from staff_inbox.auth import hash_password
from tests.e2e.harness import MODEL, Servers, free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
SECRET = "e2e-web-session-secret-" + "x" * 24


def content_with(workdir: Path, values: Dict[str, Any]) -> Path:
    """A copy of content/ whose clinic profile has ``values`` instead (top-level keys
    that exist already), for KAT_CONTENT_DIR."""
    content = workdir / "content"
    shutil.copytree(ROOT / "content", content)
    profile = content / "clinic_profile.yml"
    text = profile.read_text(encoding="utf-8")
    for key, value in values.items():
        line = f"{key}: {json.dumps(value, ensure_ascii=False)}"
        text, count = re.subn(rf"^{key}: .*$", lambda _, v=line: v, text, flags=re.M)
        assert count == 1, key
    profile.write_text(text, encoding="utf-8")
    return content


@contextmanager
def webchat_stack(
    workdir: Path,
    users: str = "",
    profile: Optional[Dict[str, Any]] = None,
    more_origins: Sequence[str] = (),
) -> Iterator[Dict[str, Any]]:
    """The whole stack, with the staff
    ``users`` (KAT_STAFF_USERS; default a clinician "nurse"), clinic profile values and
    more allowed origins (a clinic page elsewhere)."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make test` (it trains first)")
    web_port = free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    env = {
        "KAT_WEB_SESSION_SECRET": SECRET,
        "KAT_WEB_ORIGINS": ",".join([web_url, *more_origins]),
        "KAT_STAFF_USERS": users or f"nurse:{hash_password(PASSWORD)}",
        "KAT_STAFF_API_TOKEN": "",
    }
    if profile:
        env["KAT_CONTENT_DIR"] = str(content_with(workdir, profile))
    servers = Servers(workdir=workdir, extra_env=env)
    try:
        servers.start()
        servers.start_inbox()
        assert servers.start_web(web_port) == web_url
        yield {"servers": servers, "web_url": web_url}
    except Exception:
        for name in ("rasa", "actions", "inbox", "web"):
            print(name, servers.log_tail(name), sep="\n")
        raise
    finally:
        servers.stop_all()
