"""The ``sipas`` command: a click group that works as a console script and under
``flask --app survey_app``. Commands load the app only when they run."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo

from .commands import admin as admin_commands
from .commands import apikeys as apikey_commands
from .commands import codes as code_commands
from .commands import data as data_commands
from .commands import feedback as feedback_commands
from .commands import ops as ops_commands
from .commands import server as server_commands

COMMANDS: list[click.Command] = [
    *server_commands.COMMANDS,
    *admin_commands.COMMANDS,
    *apikey_commands.COMMANDS,
    *code_commands.COMMANDS,
    *data_commands.COMMANDS,
    *ops_commands.COMMANDS,
    *feedback_commands.COMMANDS,
]


def _add_analysis(group: click.Group) -> None:
    try:
        from analysis.cli import add_commands
    except ImportError:  # the analysis commands are optional while it is being built
        return

    def url() -> str:
        ctx = click.get_current_context()
        with ctx.ensure_object(ScriptInfo).load_app().app_context():
            return current_app.config["SQLALCHEMY_DATABASE_URI"]

    add_commands(group, database_url=url)


class _LazyAnalysis:
    """Adds the analysis commands the first time a command is not found among the others or
    the commands are listed: they import pandas and scipy, seconds that ``sipas serve``, the
    app's workers and the other commands do not need to spend."""

    _analysis_added = False

    def _with_analysis(self) -> None:
        if not self._analysis_added:
            self._analysis_added = True
            _add_analysis(self)  # type: ignore[arg-type]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)  # type: ignore[misc]
        if command is None and not self._analysis_added:
            self._with_analysis()
            command = super().get_command(ctx, name)  # type: ignore[misc]
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._with_analysis()
        return super().list_commands(ctx)  # type: ignore[misc]


class _SipasGroup(_LazyAnalysis, click.Group):
    pass


class _AppCommands(_LazyAnalysis, AppGroup):
    pass


# Commands that may make the data directory and the schema; every other command needs them.
CREATING_COMMANDS = frozenset({"init", "demo", "serve"})


def _top_command() -> str | None:
    ctx = click.get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None and ctx.parent.parent is not None:
        ctx = ctx.parent
    return ctx.info_name if ctx is not None and ctx.parent is not None else None


def _create_app() -> Flask:
    """The app for a command. A command other than init, demo and serve never creates a data
    directory or a database (run in the wrong folder it would start an empty one there): it
    says to run `sipas init` first."""
    from . import create_app
    from .config import from_environment

    command = _top_command()
    if command in CREATING_COMMANDS:
        return create_app()
    settings = from_environment()
    data_dir = Path(settings["SIPAS_DATA_DIR"]).expanduser().resolve()
    if not settings["SIPAS_DATABASE_URL"] and not (data_dir / "sipas.sqlite").exists():
        raise click.ClickException(
            f"Chưa có cơ sở dữ liệu trong {data_dir}: chạy `sipas init` trước, ở đúng thư mục hoặc với "
            f"SIPAS_DATA_DIR / SIPAS_DATABASE_URL đã đặt (no database in {data_dir}: run `sipas init` first).")
    app = create_app()
    with app.app_context():
        from sqlalchemy import inspect

        from .extensions import db

        if not inspect(db.engine).has_table("alembic_version"):
            raise click.ClickException(
                "Cơ sở dữ liệu chưa được khởi tạo: chạy `sipas init` trước (the database has no schema: "
                "run `sipas init` first).")
    return app


@click.group(name="sipas", cls=_SipasGroup,
             help="sipas: citizen satisfaction surveys (SIPAS) for public-service counters.")
@click.version_option(package_name="sipas", prog_name="sipas")
@click.pass_context
def main_group(ctx: click.Context) -> None:
    info = ctx.ensure_object(ScriptInfo)
    if info.create_app is None:
        info.create_app = _create_app


for _command in COMMANDS:
    main_group.add_command(_command)


def register_cli(app: Flask) -> None:
    """The same commands under ``flask --app survey_app``."""
    commands = _AppCommands(app.cli.name)
    for command in (*app.cli.commands.values(), *COMMANDS):
        commands.add_command(command)
    app.cli = commands


def main() -> None:
    """Console-script entry point."""
    try:
        main_group(obj=ScriptInfo(create_app=_create_app, set_debug_flag=False))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # python -m survey_app.cli, as the console script
    main()
