"""Alembic environment for Flask-Migrate: the engine and metadata come from the app."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    # Only when run from the command line; inside tests the host owns logging.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def run_migrations_offline() -> None:
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_db.metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("compare_type", True)
    # The monthly partitions and response_key (PostgreSQL) are not in the models.
    from survey_app.services.data.partitions import include_name
    conf_args.setdefault("include_name", include_name)
    with target_db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode recreates tables on SQLite; with foreign keys on, dropping the old
            # table would cascade into its children (every answer of "response"). The
            # pragma only works outside a transaction, so it is set before one begins.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")  # the pooled connection goes back as it came
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
