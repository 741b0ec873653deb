"""The staff inbox's clinic pages: Insights and the review queue (reviewer and admin).

* ``GET /insights[?days=N]``: the report of kat/report.py as a page (counts, shares,
  times, charts rendered on the server; no message text);
* ``GET /api/review``: the review queue (kat/review_queue.py) with each entry's label,
  and the labels a reviewer may give;
* ``POST /api/review/<id>/label`` ``{"label": "faq/side_effects"}``: label an entry;
* ``GET /api/review/export``: the labelled entries as a Rasa NLU file of candidate
  examples, for the content owners.
Every label and export is written to the audit trail (kat/audit.py).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

import sqlalchemy as sa
from sanic import Sanic, response
from sanic.request import Request

from kat import report
from kat.audit import AuditLog
from kat.handoff_store import HandoffStore
from kat.insights import compute
from kat.retention import profile_days, tracker_db_url
from kat.review_queue import (
    ReviewLabels,
    allowed_labels,
    entries,
    export_yaml,
    with_labels,
)
from staff_inbox.json_body import text_field

MAX_DAYS = 366
# The report page has its own inline style and no script.
INSIGHTS_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

Permitted = Callable[[Request, str], Tuple[Optional[Any], Any]]


def add_review_routes(
    app: Sanic,
    permitted: Permitted,
    store: HandoffStore,
    audit_log: AuditLog,
    tracker: Optional[sa.engine.Engine] = None,
) -> None:
    review_labels = ReviewLabels(store)
    engines: dict = {"tracker": tracker}

    def tracker_engine() -> sa.engine.Engine:
        if engines["tracker"] is None:
            engines["tracker"] = sa.create_engine(tracker_db_url(), future=True)
        return engines["tracker"]

    def queue() -> list:
        found = entries(tracker_engine(), profile_days())
        return with_labels(found, review_labels.all())

    @app.get("/insights")
    async def insights_page(request: Request) -> Any:
        _, refused = permitted(request, "insights")
        if refused:
            return refused
        try:
            days = max(1, min(MAX_DAYS, int(request.args.get("days", "7"))))
        except ValueError:
            return response.json({"error": "days must be a number"}, status=400)
        figures = compute(
            tracker_engine(),
            store,
            days,
            zone=report.clinic_zone(None),
            known_topics=report.feedback_topic_names(),
        )
        page = response.html(report.as_html(figures))
        page.headers["Content-Security-Policy"] = INSIGHTS_CSP
        return page

    @app.get("/api/review")
    async def review_queue(request: Request) -> Any:
        _, refused = permitted(request, "insights")
        if refused:
            return refused
        return response.json(
            {
                "entries": [entry.as_dict() for entry in queue()],
                "labels": sorted(allowed_labels()),
            }
        )

    @app.post("/api/review/<event_id:int>/label")
    async def label_entry(request: Request, event_id: int) -> Any:
        account, refused = permitted(request, "insights")
        if refused or account is None:
            return refused
        label = text_field(request.ctx.body, "label").strip()
        if label not in allowed_labels():
            return response.json({"error": f"unknown label {label!r}"}, status=400)
        if event_id not in {entry.id for entry in queue()}:
            return response.json({"error": "no such entry in the queue"}, status=404)
        review_labels.set(event_id, label, account.name)
        audit_log.record(account.name, "label", None, f"{event_id}: {label}")
        return response.json({"ok": True, "id": event_id, "label": label})

    @app.get("/api/review/export")
    async def export(request: Request) -> Any:
        account, refused = permitted(request, "insights")
        if refused or account is None:
            return refused
        found = queue()
        labelled = [e for e in found if e.label]
        audit_log.record(account.name, "export", None, f"{len(labelled)} labelled")
        return response.text(
            export_yaml(found),
            content_type="text/yaml; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="review_candidates.yml"'
            },
        )
