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
