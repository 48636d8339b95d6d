"""The gateway and the app records: a rotated token works at once, and the per-process app
cache never delays a change (the replay guard's statement reads the app's current record, so a
rotated token, a disabled flag or narrowed grants apply on the next call even while the app is
cached)."""

from __future__ import annotations

from tests.shopex.support import ENDPOINT, RANGE, signed
from zhangben.access import integrators as apps
from zhangben.store.engine import read_transaction, run_write

BALANCE = "finance.getAccountBalance"


def test_the_app_is_cached_with_its_token(erp, gateway):
    assert erp(BALANCE)["code"] == 0
    known = gateway.apps.get("erp01")
    assert known is not None and known.token == erp.token
    assert "token=" not in repr(known)  # never in a log line or a traceback's locals repr


def test_disabled_while_cached_is_refused_on_the_next_call(erp, engine, gateway):
    assert erp(BALANCE)["code"] == 0
    run_write(engine, lambda c: apps.set_enabled(c, "erp01", False))
    assert gateway.apps.get("erp01").app.enabled is True  # still cached ...
    data = erp(BALANCE)
    assert data["code"] == 1001 and "disabled" in data["sub_msg"]  # ... yet refused at once
    run_write(engine, lambda c: apps.set_enabled(c, "erp01", True))
    assert erp(BALANCE)["code"] == 0


def test_narrowed_grants_while_cached_apply_on_the_next_call(erp, engine):
    assert len(erp(BALANCE)["accounts"]) == 4
    run_write(engine, lambda c: apps.grant(c, "erp01", account_numbers=["ACC002"]))
    assert [a["account_id"] for a in erp(BALANCE)["accounts"]] == ["ACC002"]
    run_write(engine, lambda c: apps.grant(c, "erp01", methods=["finance.getTransactionList"]))
    assert erp(BALANCE)["code"] == 403
    assert erp("finance.getTransactionList", **RANGE)["code"] == 0


def test_rotated_while_cached_old_token_refused_new_token_accepted(erp, engine, cipher, gateway):
    assert erp(BALANCE)["code"] == 0
    new = run_write(engine, lambda c: apps.rotate_token(c, "erp01", cipher))
    old = erp.token
    assert erp(BALANCE)["code"] == 1003  # signed with the old token, which is still cached
    erp.token = new
    assert erp(BALANCE)["code"] == 0  # signed with the new one: read again, accepted
    assert gateway.apps.get("erp01").token == new
    erp.token = old
    assert erp(BALANCE)["code"] == 1003


def test_a_replay_is_refused_while_cached(erp, client):
    params = signed("erp01", erp.token, BALANCE)
    assert client.post(ENDPOINT, data=params).json()["code"] == 0
    assert client.post(ENDPOINT, data=params).json()["code"] == 401


def test_deleted_while_cached_is_unknown(erp, engine, gateway):
    from zhangben.store.access_tables import integrators

    assert erp(BALANCE)["code"] == 0
    run_write(
        engine, lambda c: c.execute(integrators.delete().where(integrators.c.flag == "erp01"))
    )
    assert erp(BALANCE)["code"] == 1001
    assert gateway.apps.get("erp01") is None


def test_the_cache_expires(erp, gateway):
    from zhangben.access.cache import TtlCache

    assert gateway.apps.ttl == 5.0
    now = [100.0]
    gateway.apps.clock = lambda: now[0]
    assert erp(BALANCE)["code"] == 0
    assert gateway.apps.get("erp01") is not None
    now[0] += 5.1
    assert gateway.apps.get("erp01") is None
    off = TtlCache(0)
    off.put("x", 1)
    assert off.get("x") is None and len(off) == 0


def test_rotated_token_replaces_the_old_one(erp, engine, cipher):
    assert erp("finance.getAccountBalance")["code"] == 0
    new = run_write(engine, lambda c: apps.rotate_token(c, "erp01", cipher))
    assert new != erp.token
    assert erp("finance.getAccountBalance")["code"] == 1003
    erp.token = new
    assert erp("finance.getAccountBalance")["code"] == 0
    with read_transaction(engine) as conn:
        assert apps.get_integrator(conn, "erp01").token_rotated_at is not None
