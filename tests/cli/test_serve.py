"""``zhangben demo``: the demo ledger is loaded once."""


def test_demo_loads_once(cli):
    assert "demo ledger loaded" in cli("demo").output
    assert "not loaded" in cli("demo").output
    assert "988.00" in cli("balance", "0000000000000001").output
