"""``zhangben demo``: the demo ledger is loaded once."""


def test_demo_loads_once(cli):
    assert "demo ledger loaded" in cli("demo").output
    assert "not loaded" in cli("demo").output
    assert "988.00" in cli("balance", "0000000000000001").output


def test_serve_prints_the_shopex_request_log_without_secrets(db_url, engine):
    """``zhangben serve`` configures the ``zhangben`` loggers: each signed call gives its
    documented line on stderr (operations.md, "Logs"), never the sign or the token."""
    import os
    import signal

    from tests.conftest import TEST_SECRET_KEY
    from tests.e2e.test_rest_concurrency import start_server
    from zhangben.access import integrators
    from zhangben.sdk import ShopexClient
    from zhangben.store.engine import run_write

    _, token = run_write(
        engine,
        lambda c: integrators.create_integrator(
            c,
            name="ERP",
            flag="erp01",
            secret_key=integrators.fernet_for(TEST_SECRET_KEY, db_url),
        ),
    )
    proc, base = start_server(db_url, workers=1)
    try:
        with ShopexClient(base, "erp01", token) as sdk:
            sdk.call("finance.getAccountBalance")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    log = err.decode()
    assert "shopex method=finance.getAccountBalance flag=erp01 code=0 status=200" in log, log
    assert token not in log


def test_metrics_over_workers_count_in_a_directory_of_their_own(tmp_path, monkeypatch):
    """``serve`` sets up prometheus-client's multiprocess mode only when metrics are on and
    several workers (or the caller's own directory) need it: a temporary directory, removed
    at exit, or the caller's, emptied of a previous run's values."""
    import os
    import tempfile

    from zhangben.cli.serve import metrics_dir

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for metrics, workers in ((False, 4), (True, 1)):
        with metrics_dir(metrics, workers) as path:
            assert path is None and "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    with metrics_dir(True, 2) as path:
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == path
        assert os.path.isdir(path) and os.listdir(path) == []
        assert path.startswith(str(tmp_path))
    assert not os.path.exists(path) and "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    given = tmp_path / "mine"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"old")
    (given / "notes.txt").write_text("kept")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(given))
    with metrics_dir(True, 1) as path:
        assert path == str(given) and sorted(os.listdir(given)) == ["notes.txt"]
    assert given.is_dir()


def test_json_log_config_formats_every_logger():
    from zhangben.cli.serve import log_config

    text = log_config("text")["formatters"]
    assert "()" not in text["zhangben"]
    formatters = log_config("json")["formatters"]
    assert {name: f["()"] for name, f in formatters.items()} == {
        name: "zhangben.web.logs.JsonFormatter" for name in ("default", "access", "zhangben")
    }


def test_serve_serves_the_database_named_by_db(tmp_path):
    """``zhangben --db URL serve`` serves URL, not the default ``./zhangben.db``: the settings
    the app reads are the command's, not a copy cached before ``--db`` was applied."""
    import os
    import subprocess
    import time

    import httpx

    from tests.conftest import TEST_SECRET_KEY
    from tests.e2e.test_rest_concurrency import ZHANGBEN, _free_port, stop_server

    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    target = tmp_path / "named.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "ZHANGBEN_DATABASE_URL"}
    env["ZHANGBEN_SECRET_KEY"] = TEST_SECRET_KEY
    port = _free_port()
    proc = subprocess.Popen(
        [str(ZHANGBEN), "--db", f"sqlite:///{target}", "serve", "--demo", "--port", str(port)],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline, ready = time.monotonic() + 30, None
        while time.monotonic() < deadline and ready is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
            except httpx.TransportError:
                time.sleep(0.2)
        assert ready is not None and ready.status_code == 200
    finally:
        stop_server(proc)
    assert target.exists() and not (elsewhere / "zhangben.db").exists()
