"""The SDK and the CLI against a live server (uvicorn on a loopback port, SQLite file)."""

import re
import socket
import threading
import time
from decimal import Decimal

import pytest
import uvicorn
from typer.testing import CliRunner

from zhangben.app import create_app
from zhangben.cli import app as cli_app
from zhangben.sdk import PermissionDenied, ShopexClient, SignatureError, UnknownMethod
from zhangben.settings import Settings, get_settings

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A served demo ledger and an app created with ``zhangben app add``."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    assert runner.invoke(cli_app, ["--db", url, "demo"]).exit_code == 0
    added = runner.invoke(cli_app, ["--db", url, "app", "add", "Live ERP", "--flag", "live01"])
    assert added.exit_code == 0, added.output
    assert "shown only this once" in added.output
    token = re.search(r"token: (\w+)", added.output).group(1)
    # the server uses the CLI's key (the environment's, or the one derived from the URL)
    settings = Settings(database_url=url, secret_key=get_settings().secret_key)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield {"url": f"http://127.0.0.1:{port}", "db": url, "token": token}
    server.should_exit = True
    thread.join(10)


def test_sdk_calls_both_methods(live):
    with ShopexClient(live["url"], "live01", live["token"]) as client:
        accounts = client.call("finance.getAccountBalance", account_id="ACC002")["accounts"]
        assert accounts == [
            {
                "account_id": "ACC002",
                "account_name": "备用账户",
                "account_type": "backup",
                "balance": Decimal("5200.50"),
                "currency": "CNY",
            }
        ]
        page = client.call(
            "finance.getTransactionList",
            account_id="ACC001",
            start_time="2024-01-01 00:00:00",
            end_time="2024-02-01 00:00:00",
            page_size=2,
        )
        assert page["count"] == 4 and len(page["lists"]) == 2
        assert page["lists"][0]["trans_type"] == "income"  # oldest first: 期初余额
        assert page["lists"][0]["balance"] == Decimal("10000.00")
        last = client.call(
            "finance.getTransactionList",
            account_id="ACC001#ACC002",
            start_time="2024-01-01",
            end_time="2024-01-31",
            trans_type="transfer_out",
            max_entry_id=page["max_entry_id"],
        )["lists"]
        assert [(r["trans_type"], r["trans_id"].endswith(":out")) for r in last] == [
            ("transfer_out", True)
        ]
        with pytest.raises(UnknownMethod):
            client.call("finance.getNothing")
    with ShopexClient(live["url"], "live01", "wrong-token") as client:
        with pytest.raises(SignatureError) as failure:
            client.call("finance.getAccountBalance")
        assert failure.value.server_concatenation.startswith("charsetutf-8flaglive01")


def test_ip_allow_list_sees_the_real_peer(live):
    grant = ["--db", live["db"], "app", "grant", "live01"]
    assert runner.invoke(cli_app, [*grant, "--ip", "10.9.9.9"]).exit_code == 0
    try:
        with ShopexClient(live["url"], "live01", live["token"]) as client:
            with pytest.raises(PermissionDenied):
                client.call("finance.getAccountBalance")
        assert runner.invoke(cli_app, [*grant, "--ip", "127.0.0.1"]).exit_code == 0
        with ShopexClient(live["url"], "live01", live["token"]) as client:
            assert client.call("finance.getAccountBalance")["accounts"]
    finally:
        assert runner.invoke(cli_app, [*grant, "--any-ip"]).exit_code == 0


def test_cli_call(live):
    args = ["call", "finance.getAccountBalance", "account_id=ACC001", "--url", live["url"]]
    result = runner.invoke(cli_app, [*args, "--flag", "live01", "--token", live["token"]])
    assert result.exit_code == 0, result.output
    assert '"account_id":"ACC001"' in result.stdout and '"balance":10299.50' in result.stdout
    env = {"ZHANGBEN_FLAG": "live01", "ZHANGBEN_TOKEN": "bad"}
    failed = runner.invoke(cli_app, args, env=env)
    assert failed.exit_code == 1 and "1003" in failed.output and "charsetutf-8" in failed.output


def test_cli_app_admin(live):
    db = ["--db", live["db"]]
    listed = runner.invoke(cli_app, [*db, "app", "list"])
    assert "live01" in listed.output and live["token"] not in listed.output
    shown = runner.invoke(cli_app, [*db, "app", "show", "live01"])
    assert "response style" in shown.output and live["token"] not in shown.output
    assert runner.invoke(cli_app, [*db, "app", "add", "Other", "--style", "shopex"]).exit_code == 0
    assert runner.invoke(cli_app, [*db, "app", "disable", "live01"]).exit_code == 0
    try:
        with ShopexClient(live["url"], "live01", live["token"]) as client:
            with pytest.raises(Exception) as failure:
                client.call("finance.getAccountBalance")
            assert failure.value.code == 1001
    finally:
        assert runner.invoke(cli_app, [*db, "app", "enable", "live01"]).exit_code == 0
    missing = runner.invoke(cli_app, [*db, "app", "show", "nope"])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_cli_sign_explain_vector_one():
    words = [
        "flag=erp01",
        "method=finance.getAccountBalance",
        "ver=1",
        "charset=utf-8",
        "type=json",
        "timestamp=1764000000",
    ]
    result = runner.invoke(cli_app, ["sign", "--explain", *words, "--token", "zb-secret-0001"])
    assert result.exit_code == 0
    assert (
        "charsetutf-8flagerp01methodfinance.getAccountBalancetimestamp1764000000typejsonver1"
        in result.stdout
    )
    assert "4FDD1A0472FEC71F222A0D03AAEF1DF5" in result.stdout
    assert "zb-secret-0001" not in result.stdout
    plain = runner.invoke(cli_app, ["sign", *words], env={"ZHANGBEN_TOKEN": "zb-secret-0001"})
    assert plain.stdout.strip() == "4FDD1A0472FEC71F222A0D03AAEF1DF5"


def test_cli_sign_with_token_param_warns_and_redacts():
    result = runner.invoke(cli_app, ["sign", "--explain", "a=1", "token=T0K", "--token", "T0K"])
    assert "token******" in result.stdout and "T0K" not in result.stdout
    assert "warning" in result.output
