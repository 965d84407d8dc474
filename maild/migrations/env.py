"""Alembic environment: the only way maild's schema changes.

``render_as_batch`` lets SQLite alter tables; ``compare_type`` makes autogenerate notice type
changes. The URL comes from ``maild db upgrade`` (the config's database), never from a file.
"""

from alembic import context

from maild.db import make_engine
from maild.models import Base

config = context.config
# The same options online and offline: batch mode for SQLite's ALTER TABLE, type comparison.
OPTIONS = {"target_metadata": Base.metadata, "render_as_batch": True, "compare_type": True}


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True,
                      **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
