"""Signed snapshots of the dashboard's response frames in ``SIPAS_DATA_DIR/cache``.

Reading a million responses from the long answers table takes the better part of two
minutes; reading the pickled frame back takes about a second. A snapshot is only a
starting point: the cache then asks the database what changed since it (see
``dataset.py``), so a stale or foreign snapshot costs a reload, never a wrong number.

Pickle runs code when it loads, so each file carries an HMAC-SHA256 of its bytes under a
key derived from the app's secret key; a file that does not verify is ignored (and
replaced by the next full load). The files hold the anonymous responses the database
already holds, and are written with mode 0600 like the secret key beside them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import tempfile
import threading
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

log = logging.getLogger(__name__)

_MAGIC = b"sipas-frame-1\n"
_WRITER = "sipas-snapshot"  # the name of the threads that write in the background
_DIGEST = hashlib.sha256().digest_size


class SnapshotStore:
    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self._key = key
        self._writing = threading.Lock()

    @classmethod
    def for_app(cls, app) -> SnapshotStore:
        from .codes import derive_key

        store = app.extensions.get("sipas_snapshots")
        if store is None:
            key = derive_key(app.config["SECRET_KEY"], "dashboard-snapshots")
            store = app.extensions["sipas_snapshots"] = cls(Path(app.config["SIPAS_DATA_DIR"]) / "cache", key)
        return store

    def path(self, engine: Engine, questionnaire_id: str) -> Path:
        # One file per database and questionnaire; the URL (without its password) is hashed
        # so that nothing about the server shows in the name.
        database = hashlib.sha256(engine.url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in questionnaire_id)
        return self.directory / f"{safe}-{database}.frame"

    def load(self, engine: Engine, questionnaire_id: str) -> tuple[pd.DataFrame, tuple[int, Any]] | None:
        """The saved frame and its data version (count, latest date), or None."""
        path = self.path(engine, questionnaire_id)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("dashboard snapshot %s unreadable (%s): loading from the database", path, exc)
            return None
        body = blob[len(_MAGIC) + _DIGEST:]
        signature = blob[len(_MAGIC):len(_MAGIC) + _DIGEST]
        if not blob.startswith(_MAGIC) or not hmac.compare_digest(signature, self._sign(body)):
            log.warning("dashboard snapshot %s is not signed by this server's key: ignored", path)
            return None
        try:
            meta, frame = pickle.loads(body)
        except Exception as exc:  # a signed file that this Python cannot read back
            log.warning("dashboard snapshot %s unusable (%s): loading from the database", path, exc)
            return None
        if (meta.get("questionnaire") != questionnaire_id or meta.get("pandas") != pd.__version__
                or not isinstance(frame, pd.DataFrame)):
            return None  # another questionnaire, or written before an upgrade: start afresh
        return frame, (int(meta["count"]), meta["latest"])

    def save(self, engine: Engine, questionnaire_id: str, frame: pd.DataFrame, version: Any) -> None:
        path = self.path(engine, questionnaire_id)
        meta = {"questionnaire": questionnaire_id, "count": version.count, "latest": version.latest,
                "pandas": pd.__version__}
        body = pickle.dumps((meta, frame), protocol=pickle.HIGHEST_PROTOCOL)
        with self._writing:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".frame-")
            try:
                with os.fdopen(handle, "wb") as out:  # mkstemp makes it 0600
                    out.write(_MAGIC + self._sign(body) + body)
                os.replace(temporary, path)  # readers see the old file or the new, never half
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise

    def save_later(self, engine: Engine, questionnaire_id: str, frame: pd.DataFrame, version: Any) -> None:
        """Save in a background thread: pickling a million rows takes a second or two that
        the analyst waiting for the page should not pay. Frames are never modified after they
        are cached, so the thread can read this one safely."""
        def run() -> None:
            try:
                self.save(engine, questionnaire_id, frame, version)
            except OSError as exc:
                log.warning("dashboard snapshot not saved (%s); the next start loads from the database", exc)

        threading.Thread(target=run, name=_WRITER, daemon=True).start()

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()


def wait_for_writes() -> None:
    """Return once every snapshot being written in the background is on disk."""
    for thread in threading.enumerate():
        if thread.name == _WRITER:
            thread.join()
