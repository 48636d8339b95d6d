"""Integrator records: creation, tokens encrypted at rest, grants, rotation, the cipher."""

import pytest
from cryptography.fernet import Fernet

from zhangben.access import integrators as apps
from zhangben.core.errors import Conflict, NotFound, ValidationError
from zhangben.store.access_tables import integrators
from zhangben.store.engine import read_transaction, run_write


def test_create_generates_a_token_stored_encrypted(engine, cipher):
    app, token = run_write(
        engine, lambda c: apps.create_integrator(c, name="ERP", secret_key=cipher)
    )
    assert len(token) == 32 and token.isalnum() and token.isascii()
    assert app.flag.startswith("app") and app.methods == ("*",) and app.enabled
    assert app.shop_codes is None and app.response_style == "seed"
    with read_transaction(engine) as conn:
        row = conn.execute(integrators.select()).one()
        assert token not in row.token_encrypted
        assert apps.token_of(apps.get_integrator(conn, app.flag), cipher) == token
        assert apps.get_integrator(conn, app.id) == apps.get_integrator(conn, str(app.id))
    assert token not in repr(app)


def test_lookup_errors_and_validation(engine, cipher):
    run_write(engine, lambda c: apps.create_integrator(c, name="A", flag="a1", secret_key=cipher))
    with read_transaction(engine) as conn:
        with pytest.raises(NotFound):
            apps.get_integrator(conn, "nope")
        assert apps.find_integrator(conn, "nope") is None
    with pytest.raises(Conflict):
        run_write(
            engine, lambda c: apps.create_integrator(c, name="B", flag="a1", secret_key=cipher)
        )
    for bad in (
        {"flag": "has space"},
        {"methods": ["finance.get list"]},
        {"ip_allow": ["not-an-ip"]},
        {"rate_limit_per_minute": 0},
        {"response_style": "xml"},
        {"name": " "},
    ):
        kw = {"name": "C", **bad}
        with pytest.raises(ValidationError):
            run_write(engine, lambda c, kw=kw: apps.create_integrator(c, secret_key=cipher, **kw))


def test_grant_changes_only_what_is_given(engine, cipher):
    run_write(engine, lambda c: apps.create_integrator(c, name="A", flag="a1", secret_key=cipher))
    a = run_write(
        engine, lambda c: apps.grant(c, "a1", shop_codes=["S1", "S1", "S2"], data_mask=True)
    )
    assert a.shop_codes == ("S1", "S2") and a.data_mask and a.methods == ("*",)
    a = run_write(engine, lambda c: apps.grant(c, "a1", ip_allow=["10.0.0.1", "192.168.0.0/24"]))
    assert a.ip_allow == ("10.0.0.1/32", "192.168.0.0/24") and a.shop_codes == ("S1", "S2")
    assert a.allows_ip("192.168.0.77") and not a.allows_ip("10.0.0.2") and not a.allows_ip(None)
    a = run_write(engine, lambda c: apps.grant(c, "a1", shop_codes=None, methods=["finance.*"]))
    assert a.shop_codes is None and a.may_call("finance.getList") and not a.may_call("other.x")
    assert run_write(engine, lambda c: apps.set_enabled(c, "a1", False)).enabled is False


def test_fernet_for():
    demo = apps.fernet_for(None, "sqlite:///a.db")
    assert demo.decrypt(apps.fernet_for(None, "sqlite:///a.db").encrypt(b"x")) == b"x"
    with pytest.raises(Exception):
        apps.fernet_for(None, "sqlite:///b.db").decrypt(demo.encrypt(b"x"))
    key = Fernet.generate_key().decode()
    assert Fernet(key.encode()).decrypt(apps.fernet_for(key, "").encrypt(b"y")) == b"y"
    old = apps.fernet_for("old passphrase", "")
    rotated = apps.fernet_for(f"{key},old passphrase", "")
    assert rotated.decrypt(old.encrypt(b"z")) == b"z"
    assert Fernet(key.encode()).decrypt(rotated.encrypt(b"w")) == b"w"


def test_token_of_with_the_wrong_key(engine, cipher):
    app, _ = run_write(engine, lambda c: apps.create_integrator(c, name="A", secret_key=cipher))
    with pytest.raises(ValueError, match="ZHANGBEN_SECRET_KEY"):
        apps.token_of(app, apps.fernet_for("another key", ""))
