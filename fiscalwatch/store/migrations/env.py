"""Alembic environment: runs against the URL set by store.db.alembic_config."""

from alembic import context

import fiscalwatch.store.registry  # noqa: F401  (registers the compliance tables on Base.metadata)
from fiscalwatch.store.db import engine_for
from fiscalwatch.store.models import Base, UtcDateTime

config = context.config


def render_item(type_, obj, _context):
    # Migrations must not import application types; UtcDateTime is a plain timezone-aware column.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = engine_for(url)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=url.startswith("sqlite"), render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
