"""When a publication is due: its approval date (批复) plus the legal period."""

from __future__ import annotations

from datetime import date, timedelta

from fiscalwatch.settings import Settings


def due_date(settings: Settings, approval: date | None, region: str | None, year: int, kind: str) -> date:
    """The last day on which publishing is on time."""
    approved = approval or default_approval(settings, region, year, kind)
    return approved + timedelta(days=settings.publication_deadline_days)


def default_approval(settings: Settings, region: str | None, year: int, kind: str) -> date:
    """The region's usual approval date; a budget for year Y is approved in Y, a final account in Y+1."""
    defaults = {prefix.strip("/"): dates for prefix, dates in settings.default_approval.items()}
    parts = region.strip("/").split("/") if region else []
    for length in range(len(parts), -1, -1):
        month_day = defaults.get("/".join(parts[:length]), {}).get(kind)
        if month_day:
            return _on(month_day, year if kind == "budget" else year + 1)
    raise ValueError(f'default_approval has no {kind} date covering region {region!r}; add one under ""')


def _on(month_day: str, year: int) -> date:
    try:
        month, day = (int(part) for part in month_day.split("-"))
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"default_approval: MM-DD expected, got {month_day!r}") from None
