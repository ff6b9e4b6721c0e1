"""Work held under a lease: a worker takes a row (a crawl run, a fetch, a parse, a delivery) for a bounded
time; a row whose lease ran out (its worker died) can be taken again, and each take counts as an attempt,
so work that keeps killing its workers can be given up on instead of looping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select, update

from fiscalwatch.store.db import session_scope


def lapsed(status, taken: str, now: datetime):
    """The clause: ``taken`` (in the ``status`` column) with its lease run out, its worker presumed dead."""
    return (status == taken) & (status.class_.lease_until < now)


def stranded(status, unfinished: tuple[str, str], stale: datetime, now: datetime):
    """The clause: waiting since before ``stale`` (or never sent), or taken and lapsed; ``unfinished``: the
    waiting and the taken status (store.models.*_UNFINISHED)."""
    queued, taken = unfinished
    model = status.class_
    return or_((status == queued) & (model.queued_at.is_(None) | (model.queued_at < stale)),
               lapsed(status, taken, now))


def take(database_url: str, key, value, *, status, free, taken: str, attempts, lease: timedelta,
         **values) -> int | None:
    """Take the row where ``key == value`` if it is ``free`` (a clause: waiting to be done) or ``taken`` with
    its lease run out. It becomes ``taken`` (in the ``status`` column) under a lease of ``lease`` from now,
    with one more of ``attempts`` and the other ``values`` (column name → value); returns the attempt
    number, None when the row is not ours (done already, or another worker's)."""
    model = key.class_
    now = datetime.now(timezone.utc)
    with session_scope(database_url) as session:
        result = session.execute(
            update(model)
            .where(key == value, or_(free, lapsed(status, taken, now)))
            .values({status: taken, model.lease_until: now + lease, attempts: attempts + 1,
                     **{getattr(model, name): v for name, v in values.items()}}))
        if result.rowcount != 1:
            return None
        return session.scalar(select(attempts).where(key == value))
