"""Alembic's entry point: migrations run on the connection ``storage.migrate`` hands over, inside
the transaction it opened, so an upgrade is all or nothing on both engines."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
