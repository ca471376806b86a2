"""Alembic environment: runs migrations on the URL set by ``bot.storage.db``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from bot.handoff import models as _handoff_models  # noqa: F401  (registers the tables)
from bot.storage.models import Base

config = context.config


def run() -> None:
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=Base.metadata,
            literal_binds=True,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
