"""Malformed input to the inbox is refused with a 4xx, never an HTTP 500 or a logged
traceback: JSON bodies that are not objects, invalid JSON, JSON nested 1,000 deep, and
static paths that are not one of the page's files (the folder itself, unknown names).

Against the real app (tests/test_staff_inbox_app.py running_inbox), a logged-in staff
client, and caplog: an error record or a traceback in the log fails the test.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import List

import pytest

from tests.test_staff_inbox_app import Inbox, running_inbox, staff_client

DEEP = "[" * 1000 + "]" * 1000
BAD_BODIES = {
    "list": "[1, 2]",
    "string": '"reply"',
    "number": "3",
    "null": "null",
    "invalid": '{"text": "hi"',
    "not utf-8": b'{"text": "\xff\xfe"}',
    "nested list": DEEP,
    "nested in a field": '{"text": ' + DEEP + ', "username": "x", "password": "y"}',
    "nested objects": '{"a":' * 1000 + "1" + "}" * 1000,
}


def _errors(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info
    ]


def _paths(inbox: Inbox) -> List[str]:
    ticket = inbox.ticket()
    return [
        "/api/login",
        "/api/logout",
        f"/api/tickets/{ticket.id}/claim",
        f"/api/tickets/{ticket.id}/reply",
        f"/api/tickets/{ticket.id}/resolve",
    ]


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
async def test_a_body_that_is_not_a_json_object_gets_400(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    caplog.set_level(logging.INFO)
    body = BAD_BODIES[kind]
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        for path in _paths(inbox):
            reply = await staff.post(
                path,
                content=body.encode() if isinstance(body, str) else body,
                headers={
                    "Content-Type": "application/json",
                    "Origin": inbox.url,
                    "X-CSRF-Token": staff.cookies.get("kat_csrf") or "",
                },
            )
            assert reply.status_code == 400, (path, reply.status_code, reply.text)
            assert isinstance(reply.json().get("error"), str), reply.text
        assert inbox.rasa.posts == []  # nothing reached the patient
    assert _errors(caplog) == []
    assert "Traceback" not in caplog.text


async def test_fields_of_the_wrong_type_get_400(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        ticket = inbox.ticket()
        for path, body in [
            ("/api/login", {"username": ["nurse"], "password": "nurse-password"}),
            ("/api/login", {"username": "nurse", "password": 12345}),
            (f"/api/tickets/{ticket.id}/reply", {"text": ["hello"]}),
            (f"/api/tickets/{ticket.id}/reply", {"text": {"a": 1}}),
        ]:
            reply = await staff.post_json(path, body)
            assert reply.status_code == 400, (path, body, reply.text)
            assert isinstance(reply.json().get("error"), str)
        assert inbox.rasa.posts == []
    assert _errors(caplog) == []


async def test_an_empty_body_is_an_empty_object(tmp_path: Path) -> None:
    """Claim, resolve and logout need no fields: no body at all is fine (still JSON)."""
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        ticket = inbox.ticket()
        reply = await staff.post(
            f"/api/tickets/{ticket.id}/claim",
            headers={
                "Content-Type": "application/json",
                "Origin": inbox.url,
                "X-CSRF-Token": staff.cookies.get("kat_csrf") or "",
            },
        )
        assert reply.status_code == 200, reply.text


@pytest.mark.parametrize(
    "path",
    [
        "/static/",
        "/static",
        "/static/nope.js",
        "/static/..%2fapp.py",
        "/static/%2e%2e/app.py",
        "/static/sub/inbox.js",
    ],
)
async def test_static_paths_that_are_no_file_of_the_page_get_404(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.INFO)
    async with running_inbox(tmp_path) as inbox:
        async with staff_client(inbox) as staff:
            reply = await staff.get(path)
    assert reply.status_code == 404, (path, reply.status_code)
    assert "def create_app" not in reply.text
    assert _errors(caplog) == []
    assert "Traceback" not in caplog.text


async def test_the_pages_files_are_still_served(tmp_path: Path) -> None:
    async with running_inbox(tmp_path) as inbox, staff_client(inbox) as staff:
        for path, kind in [
            ("/static/inbox.js", "javascript"),
            ("/static/inbox.css", "text/css"),
            ("/", "text/html"),
        ]:
            reply = await staff.get(path)
            assert reply.status_code == 200, path
            assert kind in reply.headers["content-type"]
            assert reply.headers["x-content-type-options"] == "nosniff"
