"""How one expected publication stands: its timeliness and the quality of what was published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_SCOPE_RANK = {"汇总": 0, None: 1, "本级": 2}  # a department's roll-up speaks for it before its 本级 accounts


@dataclass(frozen=True)
class Candidate:
    """A document matched to the expectation, as far as its standing is concerned."""

    document_id: int
    active: bool
    published: date | None  # as the publishing page states it
    first_seen: date  # when the crawler first found it
    scope: str | None
    parse_status: str | None  # of its current content: pending | processing | ok | failed
    missing_tables: int  # missing_table findings of severity error
    errors: int  # other findings of severity error


@dataclass(frozen=True)
class Standing:
    timeliness: str
    quality: str | None = None
    published: date | None = None
    days_late: int | None = None
    missing_tables: int = 0
    errors: int = 0
    document_id: int | None = None


def evaluate(deadline: date, candidates: list[Candidate], today: date) -> Standing:
    """Timeliness counts from the first publication of any matched document (a later withdrawal does not make
    it late); quality is that of the main document still online, or of the last one if all were withdrawn."""
    if not candidates:
        return Standing("overdue" if today > deadline else "not_due")
    online = [c for c in candidates if c.active]
    main = min(online or candidates, key=lambda c: (_SCOPE_RANK.get(c.scope, 1), c.published or c.first_seen,
                                                    c.document_id))
    stated = [c.published for c in candidates if c.published]
    published = min(stated) if stated else None
    days_late = (published - deadline).days if published else None
    if not online:
        timeliness = "withdrawn"
    elif published:
        timeliness = "late" if days_late > 0 else "on_time"
    else:
        # No stated date: found in time proves it was on time; found later proves nothing.
        timeliness = "on_time" if min(c.first_seen for c in candidates) <= deadline else "undated"
    return Standing(timeliness, _quality(main), published, max(days_late, 0) if days_late is not None else None,
                    main.missing_tables, main.errors, main.document_id)


def _quality(main: Candidate) -> str:
    if main.parse_status == "failed":
        return "unreadable"
    if main.parse_status != "ok":
        return "pending"
    return "incomplete" if main.missing_tables else "errors" if main.errors else "ok"
