"""What can be checked of the deployment files without Docker or a cluster.

The Dockerfiles' base images match the pins in requirements.txt, every package they
install is constrained by requirements.txt, the Helm values and endpoint files parse and
take every credential from a secret or ${ENV}, never a literal. (docs/deploy.md lists
what was not validated: no image was built and no chart was rendered here.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "deploy" / "docker"
HELM = ROOT / "deploy" / "helm"
SECRET_WORDS = re.compile(
    r"PASSWORD|SECRET|TOKEN|_KEY$|USERS|DB_URL|NOTIFY_URL|REDIS_URL", re.I
)


def pins() -> Dict[str, str]:
    found: Dict[str, str] = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)", line.strip())
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def base_image(dockerfile: Path) -> Tuple[str, str]:
    lines = [
        line.split()[1]
        for line in dockerfile.read_text().splitlines()
        if line.startswith("FROM ")
    ]
    assert len(lines) == 1, f"{dockerfile.name}: one FROM expected"
    image, _, tag = lines[0].partition(":")
    return image, tag


def test_rasa_image_matches_the_pinned_rasa() -> None:
    image, tag = base_image(DOCKER / "rasa.Dockerfile")
    assert image == "rasa/rasa"
    assert tag.split("-")[0] == pins()["rasa"]


def test_action_server_image_matches_the_pinned_sdk() -> None:
    image, tag = base_image(DOCKER / "action-server.Dockerfile")
    assert (image, tag) == ("rasa/rasa-sdk", pins()["rasa-sdk"])


def test_staff_inbox_image_is_python_310_slim() -> None:
    assert base_image(DOCKER / "staff-inbox.Dockerfile") == ("python", "3.10-slim")


def test_webchat_image_builds_the_pinned_client_and_serves_it_itself() -> None:
    """Two stages: npm ci from web/package-lock.json, then python:3.10-slim with only
    the files webchat/app.py serves (nothing from a CDN)."""
    text = (DOCKER / "webchat.Dockerfile").read_text()
    stages = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert stages == ["node:20-slim", "python:3.10-slim"]
    assert "COPY web/package.json web/package-lock.json" in text
    assert "npm ci" in text and "npm install" not in text
    from webchat.app import FILES

    for served, _ in FILES.values():
        assert served.split("/")[-1] in text, served
    assert 'ENTRYPOINT ["python", "-m", "webchat"]' in text


def pip_installs(dockerfile: Path) -> Iterator[Tuple[str, List[str]]]:
    """(the whole RUN pip install command, its package arguments)."""
    text = dockerfile.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if "pip install" not in line:
            continue
        command = line.split("pip install", 1)[1].split("&&")[0]
        args = command.split()
        packages = []
        skip = False
        for arg in args:
            if skip:
                skip = False
                continue
            if arg in ("-c", "-r", "--constraint", "--requirement"):
                skip = True
                continue
            if not arg.startswith("-"):
                packages.append(arg)
        yield command, packages


@pytest.mark.parametrize("name", ["action-server", "staff-inbox", "rasa", "webchat"])
def test_every_installed_package_is_pinned_in_requirements(name: str) -> None:
    wanted = pins()
    for command, packages in pip_installs(DOCKER / f"{name}.Dockerfile"):
        assert "-c /tmp/requirements.txt" in command, command
        for package in packages:
            bare, _, version = package.partition("==")
            key = bare.lower().replace("_", "-")
            assert key in wanted, f"{name}: {bare} is not pinned in requirements.txt"
            if version:
                assert version == wanted[key], f"{name}: {package} != {wanted[key]}"


def test_requirements_pin_what_the_production_profile_needs() -> None:
    wanted = pins()
    for package in ("psycopg2-binary", "redis", "aio-pika", "sqlalchemy"):
        assert package in wanted, package


def values_files() -> List[Path]:
    return sorted(HELM.glob("*.yml"))


def walk(node: Any, path: str = "") -> Iterator[Tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")
    yield path, node


def test_helm_values_exist_and_parse() -> None:
    names = {p.name for p in values_files()}
    assert {
        "rasa-values.yml",
        "action-server-values.yml",
        "staff-inbox-values.yml",
        "webchat-values.yml",
    } <= names
    for path in values_files():
        assert isinstance(yaml.safe_load(path.read_text()), dict), path.name


@pytest.mark.parametrize("path", values_files(), ids=lambda p: p.name)
def test_helm_values_take_credentials_from_secrets(path: Path) -> None:
    values = yaml.safe_load(path.read_text())
    env = values.get("extraEnv") or []
    assert env, f"{path.name}: no extraEnv"
    for entry in env:
        if SECRET_WORDS.search(entry["name"]):
            assert "value" not in entry, f"{path.name}: {entry['name']} is a literal"
            ref = entry["valueFrom"]["secretKeyRef"]
            assert ref["name"] and ref["key"]
    # Nowhere else a literal password or token: only ${ENV} or $(ENV) references.
    assert literal_credentials(values) == [], path.name


def literal_credentials(values: Any) -> List[str]:
    """Where a key naming a password, token or secret (any spelling: ``apiToken``,
    ``X-KAT-Action-Token``, ``session_secret``) holds a literal instead of a reference."""
    found = []
    for where, value in walk(values):
        key = where.rsplit(".", 1)[-1]
        if (
            isinstance(value, str)
            and re.search(r"(?i)password|token|secret", key)
            and not re.search(r"(?i)name$", key)  # the name of a Kubernetes secret
            and not re.fullmatch(r"\$\{[A-Z_]+\}|\$\([A-Z_]+\)", value)
        ):
            found.append(where)
    return found


def test_the_secret_scan_sees_every_spelling_of_a_credential_key() -> None:
    """Issue 16: a hyphenated header name with a literal token passed the scan."""
    values = {
        "headers": {"X-KAT-Action-Token": "abc123", "X-Request-Id": "fine"},
        "auth": {"apiToken": "literal", "session_secret": "${KAT_WEB_SESSION_SECRET}"},
        "db": {"password": "$(DB_PASSWORD)"},
        "tls": [{"secretName": "kat-tls"}],
    }
    assert sorted(literal_credentials(values)) == [
        ".auth.apiToken",
        ".headers.X-KAT-Action-Token",
    ]


def test_rasa_values_use_the_production_stores() -> None:
    values = yaml.safe_load((HELM / "rasa-values.yml").read_text())
    endpoints = values["applicationSettings"]["endpoints"]["additionalEndpoints"]
    production = yaml.safe_load((ROOT / "endpoints.production.yml").read_text())
    for key in ("tracker_store", "lock_store", "event_broker", "nlg"):
        assert endpoints[key] == production[key], key
    assert values["replicaCount"] >= 2


def test_production_endpoints_take_every_host_and_credential_from_env() -> None:
    production = yaml.safe_load((ROOT / "endpoints.production.yml").read_text())
    for section in ("tracker_store", "lock_store", "event_broker"):
        for key, value in production[section].items():
            if key in ("type", "dialect"):
                continue
            values = value if isinstance(value, list) else [value]
            if isinstance(value, dict):
                values = list(value.values())
            for item in values:
                assert re.fullmatch(r"\$\{KAT_[A-Z_]+\}", str(item)), (section, key)
    assert production["tracker_store"]["type"] == (
        "components.tracker_store.ResilientSQLTrackerStore"
    )


def test_rasa_image_keeps_the_jwt_secret_off_the_command_line() -> None:
    """The image starts Rasa through scripts/rasa_run.py (secret from RASA_JWT_SECRET);
    no values file passes a secret, or a reference to one, as an argument."""
    dockerfile = (DOCKER / "rasa.Dockerfile").read_text()
    assert 'ENTRYPOINT ["python", "/app/scripts/rasa_run.py"]' in dockerfile
    assert "COPY scripts/rasa_run.py /app/scripts/rasa_run.py" in dockerfile
    for path in values_files():
        values = yaml.safe_load(path.read_text())
        for arg in (values.get("args") or []) + (values.get("command") or []):
            assert not re.search(r"(?i)secret|token|password|--enable-api", str(arg)), (
                path.name,
                arg,
            )
    rasa = yaml.safe_load((HELM / "rasa-values.yml").read_text())
    assert rasa["args"][0] == "run"
    names = {entry["name"] for entry in rasa["extraEnv"]}
    assert "RASA_JWT_SECRET" in names


def test_rasa_values_configure_the_projects_channels_as_credentials_yml_does() -> None:
    """The hardened REST channel and the web chat (with Redis across replicas), not
    Rasa's stock REST channel."""
    values = yaml.safe_load((HELM / "rasa-values.yml").read_text())
    channels = values["applicationSettings"]["credentials"][
        "additionalChannelCredentials"
    ]
    assert "rest" not in channels and "socketio" not in channels
    project = yaml.safe_load((ROOT / "credentials.yml").read_text())
    for name in (
        "channels.rest.RestInput",
        "channels.socketio.SocketIOInput",
    ):
        assert (channels[name] or {}) == (project[name] or {}), name
    env = {entry["name"] for entry in values["extraEnv"]}
    for variable in (
        "KAT_WEB_SESSION_SECRET",
        "KAT_WEB_ORIGINS",
        "KAT_WEB_REDIS_URL",
        "KAT_WEB_REDIS_CHANNEL",
        "KAT_REST_SENDER_SECRET",
    ):
        assert variable in env, variable
    # Production REST is bound to its callers (issued senders), never open.
    assert channels["channels.rest.RestInput"]["sender_secret"]
    # Long-polling requests must reach the replica that holds the session.
    annotations = values["ingress"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
