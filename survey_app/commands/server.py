"""sipas init, serve, demo."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext

from ..config import configured_public_url_problem
from ..database import ImmutableVersionError, sync_questionnaires, upgrade
from ..extensions import db
from . import fail


def initialise() -> list[str]:
    """Create or upgrade the schema and load the questionnaires (idempotent)."""
    upgrade()
    try:
        return sync_questionnaires()
    except ImmutableVersionError as exc:
        raise fail(str(exc)) from None


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database schema and load the questionnaires."""
    added = initialise()
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    click.echo(f"Database ready: {_safe_url(url)}")
    click.echo(f"Questionnaires loaded: {', '.join(added) if added else 'none new'}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _private_logger():  # type: ignore[no-untyped-def]
    from gunicorn.glogging import Logger

    from ..logs import private

    class PrivateLogger(Logger):
        """gunicorn's logger with every record redacted (no client address, no code)."""

        def setup(self, cfg) -> None:  # type: ignore[no-untyped-def]
            super().setup(cfg)
            private(self.error_log)
            private(self.access_log)

    return PrivateLogger


def run_gunicorn(app_factory, *, host: str, port: int, workers: int, threads: int) -> None:
    """Serve with gunicorn (a production WSGI server), each worker building its own app."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"{host}:{port}", "workers": workers, "threads": threads,
                "worker_class": "gthread", "timeout": 60, "graceful_timeout": 20,
                # Phones open the form and post it on one kept-alive connection; gunicorn's
                # default of 2 s closes it while people read, and under load closes busy
                # connections, whose clients then reconnect (a new TCP handshake each time).
                "keepalive": 30,
                "accesslog": None, "errorlog": "-", "loglevel": "warning", "logger_class": _private_logger(),
                # Never log query strings or client addresses of citizens.
                "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            from ..services.dataset import warm_in_background
            from ..services.seal import start_nightly
            from ..services.unlink import start_timer

            app = app_factory()
            if app.config.get("SIPAS_WARM_DASHBOARD", True):
                warm_in_background(app)
            start_timer(app)  # in each worker: stamps rewritten within the bound, quiet or not
            start_nightly(app)  # one worker of one host rewrites the tables in key order nightly
            return app

    Server().run()


def _serve_options(func):
    func = click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")(func)
    func = click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64),
                        help="Threads per worker.")(func)
    return func


@click.command("serve")
@_serve_options
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (more on PostgreSQL; SQLite serialises writes anyway).")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, workers: int, threads: int) -> None:
    """Serve sipas with gunicorn (production server)."""
    _pool_for(threads)
    info = ctx.ensure_object(ScriptInfo)
    app = info.load_app()
    with app.app_context():
        initialise()
        db.engine.dispose()  # workers are forked: they must not share the master's connection
    click.echo(f"sipas serving on http://{host}:{port} (public URL {app.config['SIPAS_PUBLIC_URL']})")
    problem = configured_public_url_problem(app.config)
    if problem:
        click.echo(f"Cảnh báo (warning): {problem} Cho đến khi đó, không in được mã nào.", err=True)
    run_gunicorn(info.create_app or (lambda: app), host=host, port=port, workers=workers, threads=threads)


def _pool_for(threads: int) -> None:
    """Workers build their apps from the environment: size their connection pools to the
    threads unless SIPAS_DB_POOL_SIZE says otherwise."""
    if os.environ.get("SIPAS_DB_POOL_SIZE", "0") in ("", "0"):
        os.environ["SIPAS_DB_POOL_SIZE"] = str(threads + 2)


@click.command("demo")
@_serve_options
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Set up the demo data and exit.")
@click.pass_context
def demo_command(ctx: click.Context, host: str, port: int, threads: int, no_serve: bool) -> None:
    """Set up a demo department with users, codes and months of responses, then serve it."""
    from ..demo import seed_demo

    _pool_for(threads)
    # QR codes must point at this server unless the operator said otherwise; the
    # environment carries it into the gunicorn workers too.
    if not os.environ.get("SIPAS_PUBLIC_URL"):
        os.environ["SIPAS_PUBLIC_URL"] = f"http://{host}:{port}"
    os.environ["SIPAS_ALLOW_LOCAL_PUBLIC_URL"] = "true"  # a demo's codes open on this machine
    info = ctx.ensure_object(ScriptInfo)
    app = info.load_app()
    with app.app_context():
        initialise()
        try:
            summary = seed_demo()
        except ValueError as exc:
            raise fail(str(exc)) from None
        db.engine.dispose()
    base = app.config["SIPAS_PUBLIC_URL"]
    click.echo(f"Demo province: {summary.department}")
    click.echo(f"Data directory: {app.config['SIPAS_DATA_DIR']}")
    click.echo("Users (passwords are new each time 'sipas demo' runs):")
    for username, role, password in summary.users:
        click.echo(f"  {role:8} {username:10} {password}")
    click.echo("Open:")
    click.echo(f"  Staff and analysts: {base}/staff/login")
    click.echo(f"  Citizens (a demo code): {summary.sample_url}")
    click.echo(f"  Type a code: {base}/s")
    click.echo(f"  Counter kiosk (a tablet): {base}/k — pairing code {summary.kiosk_pairing[:3]} "
               f"{summary.kiosk_pairing[3:]} (15 minutes)")
    if no_serve:
        return
    run_gunicorn(info.create_app or (lambda: app), host=host, port=port, workers=1, threads=threads)


@click.command("unlink")
@with_appcontext
def unlink_command() -> None:
    """PostgreSQL: rewrite recent rows so no transaction stamp links a response to its code."""
    from ..services.unlink import rewrite_recent

    counts = rewrite_recent()
    if not counts:
        click.echo("Nothing to do: only PostgreSQL stamps rows with transaction ids.")
    for table, count in counts.items():
        click.echo(f"{table}: {count} rows rewritten")


@click.command("seal")
@with_appcontext
def seal_command() -> None:
    """Bring the dashboard's cell tallies up to yesterday, then rewrite answers, comments and
    codes in key order: where a row lies on disk then says nothing about when it was
    written. The server does it nightly (it holds the write lock while it runs)."""
    from ..services.seal import seal

    result, _entry = seal("cli")
    db.session.commit()
    what = "the whole database (VACUUM)" if result.backend == "sqlite" else ", ".join(result.tables) + " (CLUSTER)"
    click.echo(f"Rewritten in key order: {what}.")


COMMANDS = [init_command, serve_command, demo_command, unlink_command, seal_command]
