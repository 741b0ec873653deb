"""Bad requests to the Rasa server get a 4xx, not HTTP 500 and a traceback.

Rasa's HTTP API checks JWTs with sanic-jwt, which lets PyJWT's own errors escape for
some tokens: one signed with HS512, or with ``alg: none``, raises
``InvalidAlgorithmError`` from ``is_authenticated``, and Sanic answers 500 and logs the
whole traceback. A JSON body nested deeper than Python's parser goes raises
``RecursionError`` the same way. Neither is a server fault.

Rasa offers no hook on its app; the channels' blueprints are registered on it, and a
blueprint's ``before_server_start`` listener receives the app. So each patient channel's
blueprint carries :func:`guard_app` (channels/base.py), which adds two error handlers
to the app once: 401 for any token PyJWT refuses, 400 for a body too deep to read. Both
log one line with the error type only.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

_INSTALLED = "kat_http_errors"


async def _unauthorized(request: Request, exception: Exception) -> HTTPResponse:
    logger.warning("API token refused: %s", type(exception).__name__)
    return response.json(
        {
            "version": "",
            "status": "failure",
            "message": "User is not authenticated.",
            "reason": "NotAuthenticated",
            "code": 401,
        },
        status=401,
    )


async def _too_deep(request: Request, exception: Exception) -> HTTPResponse:
    logger.warning("request body refused: %s", type(exception).__name__)
    return response.json(
        {
            "status": "failure",
            "message": "The request body could not be read.",
            "code": 400,
        },
        status=400,
    )


def install(app: Sanic) -> None:
    """Add the handlers to ``app`` (once, however many blueprints ask)."""
    if getattr(app.ctx, _INSTALLED, False):
        return
    app.error_handler.add(jwt.exceptions.InvalidTokenError, _unauthorized)
    app.error_handler.add(RecursionError, _too_deep)
    setattr(app.ctx, _INSTALLED, True)


def guard_app(blueprint: Blueprint) -> Blueprint:
    """``blueprint``, installing the handlers on the app it is registered on."""

    async def _install(app: Sanic, _: Any) -> None:
        install(app)

    blueprint.listener("before_server_start")(_install)
    return blueprint
