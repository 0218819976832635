"""Work a server process repeats on its own, in a daemon thread (the unlink timer, the
nightly seal): one loop, one place where a failure is logged and the session closed."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from ..extensions import db


def repeat(app: Flask, seconds: float, task: Callable[[], object], *, name: str,
           stop: threading.Event | None = None) -> threading.Thread:
    """Run ``task`` in an app context every ``seconds`` until ``stop`` is set; a failure is
    logged and the next round tries again."""
    stop = stop or threading.Event()

    def run() -> None:
        while not stop.wait(seconds):
            with app.app_context():
                try:
                    task()
                except Exception:  # noqa: BLE001  (logged; the next round tries again)
                    app.logger.exception("%s failed", name)
                finally:
                    db.session.remove()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
