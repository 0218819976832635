"""The ``sipas`` command: a click group that works as a console script and under
``flask --app survey_app``. Commands load the app only when they run."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo

from .commands import admin as admin_commands
from .commands import apikeys as apikey_commands
from .commands import codes as code_commands
from .commands import data as data_commands
from .commands import ops as ops_commands
from .commands import server as server_commands

COMMANDS: list[click.Command] = [
    *server_commands.COMMANDS,
    *admin_commands.COMMANDS,
    *apikey_commands.COMMANDS,
    *code_commands.COMMANDS,
    *data_commands.COMMANDS,
    *ops_commands.COMMANDS,
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


def _create_app() -> Flask:
    from . import create_app

    return create_app()


@click.group(name="sipas", help="sipas: citizen satisfaction surveys (SIPAS) for public-service counters.")
@click.version_option(package_name="sipas", prog_name="sipas")
@click.pass_context
def main_group(ctx: click.Context) -> None:
    info = ctx.ensure_object(ScriptInfo)
    if info.create_app is None:
        info.create_app = _create_app


for _command in COMMANDS:
    main_group.add_command(_command)
_add_analysis(main_group)


def register_cli(app: Flask) -> None:
    """The same commands under ``flask --app survey_app``."""
    for command in COMMANDS:
        app.cli.add_command(command)
    _add_analysis(app.cli)


def main() -> None:
    """Console-script entry point."""
    try:
        main_group(obj=ScriptInfo(create_app=_create_app, set_debug_flag=False))
    except KeyboardInterrupt:
        sys.exit(130)
