"""Request bodies of the inbox's API: one JSON object, or a clear 400.

Sanic's ``request.json`` parses any body as JSON and hands back whatever it holds: a
list, a string or a number reached handlers that called ``.get()`` on it (HTTP 500 and
a traceback in the log), and a list nested 1,000 deep parsed fine, then broke ``str()``
with a RecursionError. Here a body is read once, before any handler runs: at most
``MAX_BYTES``, UTF-8, nested at most ``MAX_DEPTH`` deep (counted before parsing, so the
parser never recurses that far), and a JSON object. An empty body is an empty object:
claim, resolve and logout need no fields.

The fields the API reads are typed too (``text_field``, ``flag_field``): a list where
a string belongs is an error the caller can fix, not something to ``str()`` into a
message to a patient.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict

MAX_BYTES = 64 * 1024  # a reply is at most 2,000 characters
MAX_DEPTH = 20  # the API's bodies are flat; this leaves room and nothing more

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class BodyError(ValueError):
    """The body (or one of its fields) is not what the API takes; ``str()`` says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """How deep ``[`` and ``{`` nest outside strings; stops counting past ``limit``."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        else:
            depth -= 1
    return deepest


def json_object(raw: bytes) -> Dict[str, Any]:
    """The body as a dict, or BodyError (status 400, or 413 when too large)."""
    if len(raw) > MAX_BYTES:
        raise BodyError(f"request body larger than {MAX_BYTES} bytes", status=413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError("request body is not UTF-8") from None
    if not text.strip():
        return {}
    if nesting_depth(text) > MAX_DEPTH:
        raise BodyError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise BodyError("request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BodyError("request body must be a JSON object")
    return value


def text_field(body: Dict[str, Any], name: str) -> str:
    """A string field ("" when absent); anything else is a BodyError."""
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BodyError(f"{name!r} must be a string")
    return value


def flag_field(body: Dict[str, Any], name: str) -> bool:
    """A boolean field (False when absent); anything else is a BodyError."""
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BodyError(f"{name!r} must be true or false")
    return value
