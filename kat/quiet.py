"""Silence third-party deprecation warnings where they start, keep the project's own.

Sanic 21.12 (Rasa's web server) runs ``warnings.filterwarnings("once",
category=DeprecationWarning)`` when it is imported, which overrides
``PYTHONWARNINGS=ignore::DeprecationWarning``: every server then printed a wall of
DeprecationWarnings from pkg_resources, pyparsing, distutils, jax and SQLAlchemy before
it was ready, and a newcomer could not tell whether something had gone wrong. Call
:func:`quiet_warnings` once at start-up, before the heavy imports: it imports Sanic (so
its filter is in place) and then puts the project's own filters in front. Deprecations
raised from the project's own modules still show, and so does every other warning
category and every error.
"""

from __future__ import annotations

import warnings

PROJECT_MODULES = r"(kat|components|channels|actions|staff_inbox|webchat|scripts)(\.|$)"


def quiet_warnings() -> None:
    try:  # its "once" filter must be installed before ours
        import sanic.app  # noqa: F401
    except ImportError:  # the web chat's image has no Sanic
        pass

    for category in (DeprecationWarning, PendingDeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
        warnings.filterwarnings("default", category=category, module=PROJECT_MODULES)
