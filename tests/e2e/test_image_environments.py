"""The Docker images' Python environments run the project (simulated, no Docker here).

Each image's environment is built from its Dockerfile (deploy/docker/): its base
image's package closure plus what the Dockerfile pip-installs (tests/image_env.py), and
an /app folder with exactly the files it COPYs. Then, as in production: the Rasa
image builds its spaCy pipeline (its RUN step), imports every module it runs, loads the
model with the production endpoints (this machine's PostgreSQL, Redis, RabbitMQ) and
answers a conversation whose replies come from custom actions on the action server,
itself started in the action image's environment. A module importing a package the
image lacks fails here, as it would at the first custom action in production.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest
import requests

from tests import services
from tests.e2e.harness import MODEL, ROOT, Servers, texts, wait_until
from tests.image_env import copy_app, image_site

pytestmark = pytest.mark.e2e
DOCKER = ROOT / "deploy" / "docker"
IMAGE_BASES = {
    "rasa.Dockerfile": [("rasa", {"full"})],
    "action-server.Dockerfile": [("rasa-sdk", set())],
    "staff-inbox.Dockerfile": [],  # python:3.10-slim: only what it pip-installs
}


def copied(dockerfile: str) -> List[str]:
    """The project paths the Dockerfile copies into /app."""
    text = (DOCKER / dockerfile).read_text()
    return [
        src.rstrip("/")
        for src, dest in re.findall(r"^COPY\s+(\S+)\s+(\S+)", text, re.M)
        if dest.startswith("/app")
    ]


def pip_installed(dockerfile: str) -> List[Tuple[str, Set[str]]]:
    """The packages the Dockerfile's ``pip install`` adds (continued lines joined)."""
    text = (DOCKER / dockerfile).read_text().replace("\\\n", " ")
    found: List[Tuple[str, Set[str]]] = []
    for line in re.findall(r"pip install ([^&\n]+)", text):
        words = line.split()
        skip = False
        for word in words:
            if skip:
                skip = False
            elif word in ("-c", "-r", "--constraint"):
                skip = True
            elif not word.startswith("-"):
                found.append((word, set()))
    return found


def environment(tmp: Path, dockerfile: str) -> Tuple[Path, Path]:
    site, app = tmp / f"{dockerfile}-site", tmp / f"{dockerfile}-app"
    missing = image_site(site, IMAGE_BASES[dockerfile] + pip_installed(dockerfile))
    assert missing <= {"jieba", "sentencepiece"}, missing  # not installed here
    copy_app(
        app, ROOT, [p for p in copied(dockerfile) if p != "models/kat-assistant.tar.gz"]
    )
    return site, app


def image_python(
    site: Path, app: Path, args: List[str], env: Dict[str, str], log: Path
) -> subprocess.Popen:
    """``python -S``: no site-packages but the image's; /app first as the images set."""
    return subprocess.Popen(
        [sys.executable, "-S", *args],
        cwd=app,
        env={**env, "PYTHONPATH": f"{app}:{site}", "PYTHONNOUSERSITE": "1"},
        stdout=open(log, "wb"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, object]]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}; run `make train`")
    services.require("postgres", "redis", "rabbitmq")
    tmp = Path(tmp_path_factory.mktemp("images"))
    rasa_site, rasa_app = environment(tmp, "rasa.Dockerfile")
    action_site, action_app = environment(tmp, "action-server.Dockerfile")
    (rasa_app / "models").mkdir()
    (rasa_app / "models" / "kat-assistant.tar.gz").symlink_to(MODEL)
    run_id = uuid.uuid4().hex[:10]
    with services.fresh_database("kat_image") as database:
        servers = Servers(
            workdir=tmp, extra_env=services.production_env(database, run_id)
        )
        env = servers.env()
        env["KAT_ACTION_BIND"] = "127.0.0.1"
        procs: List[subprocess.Popen] = []
        try:
            # The Rasa image's RUN step, in its own environment.
            built = subprocess.run(
                [sys.executable, "-S", "scripts/build_spacy_pipeline.py"],
                cwd=rasa_app,
                env={**env, "PYTHONPATH": f"{rasa_app}:{rasa_site}"},
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert built.returncode == 0, built.stdout + built.stderr
            actions = image_python(
                action_site,
                action_app,
                ["-m", "actions.server", "--port", str(servers.action_port)],
                env,
                tmp / "actions.log",
            )
            procs.append(actions)
            wait_until(f"{servers.action_url}/health", 90, actions)
            (tmp / "credentials.yml").write_text("channels.rest.RestInput:\n")
            rasa = image_python(
                rasa_site,
                rasa_app,
                [
                    "scripts/rasa_run.py",
                    "run",
                    "--model",
                    "models/kat-assistant.tar.gz",
                    "--endpoints",
                    "endpoints.production.yml",
                    "--credentials",
                    str(tmp / "credentials.yml"),
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(servers.rasa_port),
                ],
                env,
                tmp / "rasa.log",
            )
            procs.append(rasa)
            wait_until(f"{servers.rasa_url}/webhooks/rest/", 240, rasa)
            yield {
                "servers": servers,
                "tmp": tmp,
                "rasa_site": rasa_site,
                "rasa_app": rasa_app,
            }
        except Exception:
            for name in ("actions", "rasa"):
                log = tmp / f"{name}.log"
                if log.exists():
                    print(name, log.read_text(errors="replace")[-4000:])
            raise
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_the_rasa_image_imports_every_module_it_runs(images: Dict[str, object]) -> None:
    app, site = Path(str(images["rasa_app"])), Path(str(images["rasa_site"]))
    modules = sorted(
        ".".join(p.relative_to(app).with_suffix("").parts)
        for folder in ("kat", "components", "channels")
        for p in (app / folder).glob("*.py")
        if p.name != "__init__.py"
    )
    assert len(modules) > 30
    code = (
        "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\n"
        # The replies a channel sends itself when the assistant fails, read from the
        # image's own files (channels/base.py).
        "from kat.channel_replies import failure_reply, rate_limited_reply\n"
        "assert '911' in failure_reply() and '988' in rate_limited_reply()\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code, *modules],
        cwd=app,
        env={"PYTHONPATH": f"{app}:{site}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # And a package the image lacks really cannot be imported there.
    lacking = subprocess.run(
        [sys.executable, "-S", "-c", "import pytest"],
        env={"PYTHONPATH": f"{app}:{site}"},
        capture_output=True,
    )
    assert lacking.returncode != 0


def test_the_images_answer_with_custom_actions(images: Dict[str, object]) -> None:
    servers = images["servers"]
    assert isinstance(servers, Servers)
    deadline_model = requests.get(
        f"{servers.rasa_url}/status", headers=servers.api_headers(), timeout=30
    )
    assert deadline_model.ok
    sender = f"image-{uuid.uuid4().hex[:8]}"
    # action_session_start and action_handoff are custom actions (action image).
    reply = texts(servers.say(sender, "can i talk to a person please"))
    assert "Would you like the team to contact you" in reply
    log = (Path(str(images["tmp"])) / "rasa.log").read_text(errors="replace")
    assert "ModuleNotFoundError" not in log and "Traceback" not in log, log[-3000:]


def test_the_staff_inbox_image_runs_its_app(tmp_path: Path) -> None:
    """python:3.10-slim plus the Dockerfile's pip install: the app, Insights and the
    review queue import, and the app is built."""
    site, app = environment(tmp_path, "staff-inbox.Dockerfile")
    code = (
        "import staff_inbox.app, staff_inbox.review, kat.report, kat.review_queue\n"
        "from staff_inbox.app import create_app\n"
        "from kat.handoff_store import HandoffStore\n"
        f"create_app(HandoffStore('sqlite:///{tmp_path / 'h.db'}'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=app,
        env={
            "PYTHONPATH": f"{app}:{site}",
            "PATH": "/usr/bin:/bin",
            "RASA_JWT_SECRET": "x" * 40,
            "KAT_STAFF_USERS": "",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
