"""Property-based tests from ``/openapi.json`` (schemathesis): no server errors, and every
response (status, content type, headers, body) as the schema says. SQLite is enough here;
every resource is tested on both backends elsewhere."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import TEST_SECRET_KEY
from zhangben.access import sessions
from zhangben.access.service import Access
from zhangben.app import create_app
from zhangben.core.ledger import Ledger
from zhangben.settings import Settings
from zhangben.store.engine import make_engine, run_write

#: examples per operation and mode: few in `make test` (every operation is still generated for,
#: positively and negatively, the same examples each run), many in `make test-reliability`
EXAMPLES = int(os.environ.get("ZHANGBEN_SCHEMA_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def staff_app(sqlite_template, tmp_path):
    path = tmp_path / "fuzz.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    ledger = Ledger(make_engine(url), ZoneInfo("Asia/Shanghai"))
    ledger.open_account(number="ACC001", name="主账户", shop_code="S001")
    ledger.open_account(number="ACC002", name="备用账户")
    ledger.income("ACC001", "1000")
    ledger.transfer("ACC001", "ACC002", "10")
    run_write(
        ledger.engine,
        lambda c: sessions.add_user(c, username="boss", role="staff", password="password-boss"),
    )
    token, _, _ = Access(ledger).login(
        "boss", "password-boss", ip=None, now=datetime.now(UTC), ttl_seconds=3600
    )
    app = create_app(Settings(database_url=url, secret_key=TEST_SECRET_KEY), ledger)
    yield app, token
    ledger.engine.dispose()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi(staff_app, mode):
    app, token = staff_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/api/v1/")
    headers = {"Authorization": f"Bearer {token}"}
    failures = []
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        count += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:  # nothing to negate in an operation without parameters
            continue
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert count >= 15
    assert not failures, "\n\n".join(failures)
