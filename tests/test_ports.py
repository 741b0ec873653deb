"""Every default port the project prints is one a browser will open.

Chromium refuses pages on its restricted ports with ERR_UNSAFE_PORT, and Firefox with
"This address is restricted" (the staff inbox once defaulted to 5060, the SIP port).
The list is Chromium's kRestrictedPorts (net/base/port_util.cc), which includes
Firefox's.
"""

from __future__ import annotations

import re
from pathlib import Path

from kat import ports

ROOT = Path(__file__).resolve().parent.parent
BROWSER_BLOCKED = {
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87,
    95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143,
    161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554,
    556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045,
    4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
}  # fmt: skip
SHELL_DEFAULTS = {
    "RASA_PORT": ports.RASA,
    "ACTION_PORT": ports.ACTIONS,
    "KAT_WEB_PORT": ports.WEB_CHAT,
    "KAT_INBOX_PORT": ports.STAFF_INBOX,
}


def shell_default(name: str) -> int:
    text = (ROOT / "scripts" / "env.sh").read_text()
    found = re.search(rf'export {name}="\${{{name}:-(\d+)}}"', text)
    assert found, f"scripts/env.sh sets no default for {name}"
    return int(found.group(1))


def test_the_shell_scripts_and_python_use_the_same_defaults() -> None:
    for name, port in SHELL_DEFAULTS.items():
        assert shell_default(name) == port, name


def test_browsers_allow_every_default_port() -> None:
    for name in ("RASA", "ACTIONS", "WEB_CHAT", "STAFF_INBOX"):
        assert getattr(ports, name) not in BROWSER_BLOCKED, name


def test_deployment_files_use_allowed_ports() -> None:
    for path in list((ROOT / "deploy").rglob("*")):
        if not path.is_file():
            continue
        for match in re.finditer(
            r"(?:EXPOSE |port: |--port\", \")(\d+)", path.read_text()
        ):
            assert int(match.group(1)) not in BROWSER_BLOCKED, (path, match.group(0))


def test_the_check_would_catch_the_old_inbox_port() -> None:
    assert 5060 in BROWSER_BLOCKED
