"""Alembic environment: runs against the engine the caller hands over.

``dashboard.store.engine.migrate`` passes its engine in ``config.attributes``; the
``alembic`` command line is not needed to run Lianxin.
"""

from alembic import context

from dashboard.store.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
