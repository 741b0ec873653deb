"""The assistant's activity in numbers, per day and per week.

    python -m kat.report --days N [--format text|csv|html] [--timezone ZONE]

Conversations and patient messages per channel, how patient messages were answered,
the top FAQ topics, hand-offs by reason, crisis replies, the time to a first staff
reply, the urgent tickets nobody has claimed and the answer feedback, over the last N
calendar days (today included; the clinic profile's time zone unless ``--timezone``).
Computed by kat/insights.py from the tracker store and the hand-off store, found as
``python -m kat.retention`` finds them (``KAT_TRACKER_DB_URL``, the production profile,
``KAT_TRACKER_DB``; ``KAT_HANDOFF_DB_URL``). Counts, shares, topic names, reasons and
durations only: never a message text, a contact or a conversation id.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import sys
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Any, Iterator, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from kat.handoff_store import REASONS, default_store
from kat.insights import (
    CHANNELS,
    OTHER,
    OUTCOMES,
    Insights,
    Period,
    compute,
    median,
    percentile,
)
from kat.paths import sqlite_file
from kat.retention import tracker_db_url

NO_FEEDBACK = "no feedback recorded yet"
OUTCOME_TITLES = {
    "answered": "answered directly",
    "unsure": "rather not guess",
    "not_answered": "out of scope / not covered",
    "handed_to_person": "handed to a person",
    OTHER: "other",
}
PRIVACY = (
    "Counts, shares, topic names, reasons and durations only: no message text, "
    "contact details or conversation ids."
)
CLAIM_NOTE = (
    "Time to claim: from the staff audit trail (the first claim or take-over); tickets "
    "claimed before the audit trail existed have none. First staff reply: the reply's "
    "time on the ticket, else the time Rasa saved the delivered reply in the "
    "conversation. p90 is the nearest rank."
)


@dataclass
class Section:
    title: str
    headers: List[str]
    rows: List[List[str]]
    note: str = ""


def duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    for size, unit, small, subunit in ((86400, "d", 3600, "h"), (3600, "h", 60, "m")):
        if s >= size:
            return f"{s // size}{unit} {s % size // small:02d}{subunit}"
    return f"{s // 60}m {s % 60:02d}s" if s >= 60 else f"{s}s"


def label(period: Period) -> str:
    if period.kind == "day":
        return period.start.strftime("%Y-%m-%d %a")
    if period.kind == "week":
        year, week, _ = period.start.isocalendar()
        return f"week {year}-W{week:02d}" + (
            "" if period.days == 7 else f" ({period.days}d)"
        )
    return f"all {period.days} days"


def _channels(insights: Insights) -> List[str]:
    used = insights.periods[-1].messages
    return [c for c in (*CHANNELS, OTHER) if used[c]]


def _share(part: int, whole: int) -> str:
    return f"{part} ({100 * part / whole:.0f}%)" if whole else str(part)


def _top(counts: Any, limit: int = 5) -> str:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return ", ".join(f"{topic} {n}" for topic, n in ranked) or "-"


def _per_period(
    insights: Insights, title: str, headers: Sequence[str], cells: Any, note: str = ""
) -> Section:
    """A section with one row per period: its label, then ``cells(period)``."""
    rows = [[label(p), *map(str, cells(p))] for p in insights.periods]
    return Section(title, ["period", *headers], rows, note)


def _outcomes(p: Period) -> List[str]:
    whole = sum(p.outcomes.values())
    return [str(whole), *(_share(p.outcomes[o], whole) for o in OUTCOMES)]


def sections(insights: Insights) -> List[Section]:
    channels = _channels(insights)
    empty = "" if insights.periods[-1].messages else "No patient messages in this period."
    if not insights.tracker_found:
        empty = "No conversations recorded yet (the tracker store has no events table)."
    urgent, feedback = insights.unclaimed_urgent, insights.periods[-1].feedback
    verdicts = ("helpful", "not_helpful", "unrated")
    return [
        *(
            _per_period(
                insights,
                title,
                [*channels, "total"],
                lambda p, a=attr: [
                    *(getattr(p, a)[c] for c in channels),
                    sum(getattr(p, a).values()),
                ],
                empty,
            )
            for title, attr in (
                ("Conversations per channel", "conversations"),
                ("Patient messages per channel", "messages"),
            )
        ),
        _per_period(
            insights,
            "How patient messages were answered",
            ["messages", *(OUTCOME_TITLES[o] for o in OUTCOMES)],
            _outcomes,
            "Handed to a person: action_handoff ran after the message (a new ticket, "
            "or added to the open one), or the message went on the open ticket with "
            "no other answer (action_add_to_handoff, as after a crisis).",
        ),
        _per_period(
            insights,
            "Top FAQ topics",
            ["FAQ answers", "top topics"],
            lambda p: [sum(p.faq_topics.values()), _top(p.faq_topics)],
        ),
        _per_period(
            insights,
            "Hand-offs by reason (tickets opened) and crisis replies",
            [*REASONS, "total", "crisis replies"],
            lambda p: [*(p.handoffs[r] for r in REASONS), p.tickets, p.crisis_replies],
        ),
        _per_period(
            insights,
            "Time to claim and to first staff reply (tickets opened in the period)",
            ["tickets", "claimed", "claim median", "claim p90", "replied"]
            + ["reply median", "reply p90"],
            lambda p: [p.tickets, p.claimed]
            + [duration(median(p.claim_seconds)), duration(percentile(p.claim_seconds))]
            + [len(p.reply_seconds), duration(median(p.reply_seconds))]
            + [duration(percentile(p.reply_seconds))],
            CLAIM_NOTE,
        ),
        Section(
            "Unclaimed urgent tickets (now)",
            ["reason", "open urgent tickets"],
            [[r, str(urgent[r])] for r in (*REASONS, OTHER) if urgent[r]]
            + [["total", str(sum(urgent.values()))]],
            "Oldest waiting: " + duration(insights.oldest_unclaimed_urgent_seconds),
        ),
        Section(
            "Answer feedback per topic",
            ["topic", "helpful", "not helpful", "unrated"],
            [[t, *(str(feedback[t][v]) for v in verdicts)] for t in sorted(feedback)],
            "" if insights.feedback_recorded else NO_FEEDBACK.capitalize() + ".",
        ),
    ]


def _heading(insights: Insights) -> str:
    return (
        f"KAT assistant report: the last {insights.days} days, {insights.first_day} to "
        f"{insights.last_day} ({insights.zone}); generated "
        f"{insights.generated_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )


def as_text(insights: Insights) -> str:
    lines = [_heading(insights), PRIVACY]
    for section in sections(insights):
        lines += ["", section.title, "-" * len(section.title)]
        table = [section.headers, *section.rows] if section.rows else []
        widths = (
            [max(len(row[i]) for row in table) for i in range(len(section.headers))]
            if table
            else []
        )
        for row in table:
            lines.append(
                "  ".join(
                    cell.ljust(w) if i == 0 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(row, widths, strict=False))
                ).rstrip()
            )
        if section.note:
            lines.append(section.note)
    return "\n".join(lines) + "\n"


def csv_rows(insights: Insights) -> Iterator[Tuple[str, str, str, str, Any]]:
    """``period, period_start, metric, key, value``: one row per metric per period."""
    channels = _channels(insights)
    for p in insights.periods:
        start = p.start.isoformat()
        rows: List[Tuple[str, str, Any]] = []
        for metric, counts in (
            ("conversations", p.conversations),
            ("patient_messages", p.messages),
        ):
            rows += [(metric, c, counts[c]) for c in channels]
            rows.append((metric, "all", sum(counts.values())))
        messages = sum(p.outcomes.values())
        rows += [("outcome", o, p.outcomes[o]) for o in OUTCOMES]
        rows += [
            ("outcome_share", o, round(p.outcomes[o] / messages, 4) if messages else "")
            for o in OUTCOMES
        ]
        rows += [("faq_answers", t, n) for t, n in sorted(p.faq_topics.items())]
        rows += [("handoff_tickets", r, p.handoffs[r]) for r in REASONS]
        rows += [
            ("handoff_tickets", "all", p.tickets),
            ("crisis_replies", "all", p.crisis_replies),
            ("tickets_claimed", "all", p.claimed),
            ("time_to_claim_seconds", "median", _num(median(p.claim_seconds))),
            ("time_to_claim_seconds", "p90", _num(percentile(p.claim_seconds))),
            ("tickets_replied", "all", len(p.reply_seconds)),
            ("time_to_first_reply_seconds", "median", _num(median(p.reply_seconds))),
            ("time_to_first_reply_seconds", "p90", _num(percentile(p.reply_seconds))),
        ]
        for topic in sorted(p.feedback):
            rows += [
                (f"feedback_{v}", topic, p.feedback[topic][v])
                for v in ("helpful", "not_helpful", "unrated")
            ]
        if p.kind == "total" and not insights.feedback_recorded:
            rows.append(("feedback", "all", NO_FEEDBACK))
        for metric, key, value in rows:
            yield p.kind, start, metric, key, value
    today, urgent = insights.last_day.isoformat(), insights.unclaimed_urgent
    now = [("unclaimed_urgent", r, urgent[r]) for r in (*REASONS, OTHER) if urgent[r]]
    now.append(("unclaimed_urgent", "all", sum(urgent.values())))
    oldest = _num(insights.oldest_unclaimed_urgent_seconds)
    now.append(("oldest_unclaimed_urgent_seconds", "all", oldest))
    for metric, key, value in now:
        yield "now", today, metric, key, value


def _num(value: Optional[float]) -> Any:
    return "" if value is None else round(value, 1)


def as_csv(insights: Insights) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("period", "period_start", "metric", "key", "value"))
    writer.writerows(csv_rows(insights))
    return buffer.getvalue()


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}"
    ".note{color:#555;max-width:60em}"
)


def bar_chart(values: Sequence[Tuple[str, int]], height: int = 120) -> str:
    """Patient messages per day as an inline SVG (no scripts, no external files)."""
    if not values:
        return ""
    top = max(n for _, n in values) or 1
    width, bar = 36 * len(values), 28
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height + 30}" role="img" aria-label="patient messages per day">'
    ]
    for i, (name, n) in enumerate(values):
        h = round(height * n / top)
        x = 36 * i + 4
        parts.append(
            f'<rect x="{x}" y="{height - h + 14}" width="{bar}" height="{h}" '
            f'fill="#4a7bb7"><title>{html.escape(name)}: {n}</title></rect>'
        )
        parts.append(
            f'<text x="{x + bar / 2}" y="{height - h + 11}" font-size="10" '
            f'text-anchor="middle">{n}</text>'
        )
        parts.append(
            f'<text x="{x + bar / 2}" y="{height + 26}" font-size="9" '
            f'text-anchor="middle">{html.escape(name[5:10])}</text>'
        )
    return "".join(parts) + "</svg>"


def as_html(insights: Insights) -> str:
    e = html.escape
    days = [(label(p), sum(p.messages.values())) for p in insights.of_kind("day")]
    body = [
        f"<h1>{e(_heading(insights))}</h1>",
        f'<p class="note">{e(PRIVACY)}</p>',
        "<h2>Patient messages per day</h2>",
        bar_chart(days),
    ]
    for section in sections(insights):
        body.append(f"<h2>{e(section.title)}</h2>")
        if section.rows:
            body.append(
                "<table><tr>"
                + "".join(f"<th>{e(h)}</th>" for h in section.headers)
                + "</tr>"
            )
            body += [
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                for row in section.rows
            ]
            body.append("</table>")
        if section.note:
            body.append(f'<p class="note">{e(section.note)}</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>KAT assistant report</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


FORMATS = {"text": as_text, "csv": as_csv, "html": as_html}


def clinic_zone(name: Optional[str]) -> ZoneInfo:
    if name:
        return ZoneInfo(name)
    from kat.clinic_profile import ProfileError, load_profile

    try:
        return ZoneInfo(str(load_profile().get("timezone") or "UTC"))
    except (OSError, ProfileError):
        return ZoneInfo("UTC")


def feedback_topic_names() -> List[str]:
    """What feedback may name: the FAQ topics and the clinic-facts kinds of domain.yml
    (kat.faq_topics.feedback_topics)."""
    import yaml

    from kat.faq_topics import feedback_topics, load_topics
    from kat.paths import PROJECT_ROOT

    try:
        domain = PROJECT_ROOT / "domain.yml"
        names = (
            list((yaml.safe_load(domain.read_text(encoding="utf-8")) or {})["responses"])
            if domain.exists()
            else []
        )
        return sorted(feedback_topics(names, load_topics()))
    except (OSError, ValueError, KeyError):
        return []


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7, help="calendar days (default 7)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text")
    parser.add_argument(
        "--timezone", help="day boundaries (default: the clinic profile's)"
    )
    args = parser.parse_args(argv)
    try:
        url = tracker_db_url()
        database = sqlite_file(url)
        # A missing SQLite file means no conversations yet: do not create it.
        missing = database is not None and not Path(database).exists()
        tracker = None if missing else sa.create_engine(url, future=True)
        insights = compute(
            tracker,
            default_store(),
            args.days,
            clinic_zone(args.timezone),
            known_topics=feedback_topic_names(),
        )
    except (ValueError, ZoneInfoNotFoundError, sa.exc.SQLAlchemyError) as exc:
        # The type only: SQLAlchemy's message can quote rows (conversation ids).
        print(f"report failed: {type(exc).__name__}", file=sys.stderr)
        return 1
    sys.stdout.write(FORMATS[args.format](insights))
    return 0


if __name__ == "__main__":
    sys.exit(main())
