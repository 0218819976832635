"""The test suite never touches the installation that the shell's ``SIPAS_*`` variables name.

An operator runs the tests on a server where ``SIPAS_DATABASE_URL`` and ``SIPAS_DATA_DIR`` are
exported for the service. Here a sentinel installation (initialised, so a leaking test would
succeed in writing to it rather than fail) is named by those variables while representative
tests run in a child pytest: the app, the command line, backup and restore, comment retention
and a request served over HTTP. Afterwards every file of the sentinel is byte-identical.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import hermetic_environ

REPO_ROOT = Path(__file__).resolve().parents[2]

REPRESENTATIVE_TESTS = [
    "tests/app/test_public_flow.py",
    "tests/app/test_cli.py::test_unit_add_and_list",
    "tests/app/test_cli.py::test_demo_sets_up_a_department_with_data",
    "tests/app/test_cli.py::test_the_command_line_loads_pandas_only_for_the_commands_that_need_it",
    "tests/ops/test_backup.py::test_round_trip[sqlite]",
    "tests/ops/test_backup.py::test_restore_asks_for_yes_and_changes_nothing_without_it",
    "tests/ops/test_retention.py::test_purge_deletes_only_old_comments_and_keeps_the_numbers[sqlite]",
    "tests/app/test_served.py",
]


def _fingerprint(directory: Path) -> dict[str, str]:
    """Every file below ``directory`` with the sha256 of its bytes."""
    return {str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(directory.rglob("*")) if path.is_file()}


@pytest.mark.slow
def test_the_suite_leaves_the_installation_named_by_the_environment_untouched(tmp_path):
    sentinel = tmp_path / "operator-data"
    plan = tmp_path / "operator-plan.toml"
    plan.write_text((REPO_ROOT / "analysis/report/example_plan.toml").read_text(encoding="utf-8"), encoding="utf-8")
    operator = {
        **hermetic_environ(),
        "SIPAS_DATA_DIR": str(sentinel),
        "SIPAS_DATABASE_URL": f"sqlite:///{sentinel / 'sipas.sqlite'}",
        "SIPAS_PUBLIC_URL": "https://operator.invalid",
        "SIPAS_PLAN_FILE": str(plan),
        "SIPAS_SECRET_KEY": "operator-secret",
    }
    init = subprocess.run([sys.executable, "-m", "survey_app.cli", "init"], env=operator, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stdout + init.stderr
    before = _fingerprint(sentinel)
    assert "sipas.sqlite" in before, "the sentinel installation was not initialised"
    plan_before = plan.read_bytes()

    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                          *REPRESENTATIVE_TESTS], env=operator, cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=600)

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout[-2000:]
    assert _fingerprint(sentinel) == before, "a test wrote into the operator's data directory"
    assert plan.read_bytes() == plan_before
