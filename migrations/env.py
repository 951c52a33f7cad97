"""Alembic environment: runs inside the Flask app, against the app's database."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from warehouse.db import UTCDateTime

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

database = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url",
    database.engine.url.render_as_string(hide_password=False).replace("%", "%%"),
)


def run_migrations_offline():
    """Write SQL for the migrations without connecting (`flask db upgrade --sql`)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=database.metadata,
        literal_binds=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def render_item(type_, obj, autogen_context):
    """Write our UTC timestamp column as `UTCDateTime()`, importing it only where it is used."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from warehouse.db import UTCDateTime")
        return "UTCDateTime()"
    return False


def run_migrations_online():
    """Run the migrations on a connection of the app's engine."""

    def skip_empty(context_, revision, directives):
        # `flask db migrate` with no model change writes no empty revision file.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    options = dict(current_app.extensions["migrate"].configure_args)
    options.setdefault("process_revision_directives", skip_empty)
    options.setdefault("render_item", render_item)
    options.setdefault("compare_type", True)
    with database.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it into a new one and dropping the old
            # ("batch" mode); with foreign keys enforced, dropping a table other rows point
            # at fails. Off for the migration (outside any transaction, where SQLite honours
            # it), checked afterwards, on again for the app.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(connection=connection, target_metadata=database.metadata, **options)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
