"""The ``cli`` fixture: run one ``zhangben`` command on the test's database through Typer's
runner, asserting it succeeds unless ``ok=False``. (test_imports.py and test_users.py use
runners of their own, with the same name.)"""

import pytest
from typer.testing import CliRunner

from zhangben.cli import app

runner = CliRunner()


@pytest.fixture
def cli(db_url):
    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, ["--db", db_url, *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run
