"""Helpers shared by the 壹川 tests: users with passwords, logins over HTTP, the seed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from zhangben.access import passwords, sessions
from zhangben.store.engine import run_write

#: A verbatim copy of shared/seeds/001_2e6831cee9655c46.txt (the 壹川 accountlog page).
SEED = Path(__file__).with_name("data") / "001_2e6831cee9655c46.txt"
STAFF_PW = "staff-password"
USER_PW = "merchant-password"


@pytest.fixture(autouse=True)
def cheap_argon2():
    """argon2id with small parameters: the default (64 MiB, 3 passes) costs ~0.3 s a hash
    on the test machines. Modules import this fixture to use it."""
    previous = passwords.set_hasher(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    yield
    passwords.set_hasher(previous)


def seed_example_text() -> str:
    """The seed's example response, dedented to its own JSON text (4-space indent)."""
    text = SEED.read_text(encoding="utf-8")
    start = text.index("{", text.index("返回数据结果"))
    end = text.rindex("}", 0, text.index("本书创建于")) + 1
    lines = text[start:end].splitlines()
    body = [lines[0]] + [re.sub(r"^ {4}", "", line) for line in lines[1:]]
    return "\n".join(line.rstrip() for line in body)


def seed_example() -> dict:
    return json.loads(seed_example_text())


def add_user(ledger, username, password, role="user", **kw):
    return run_write(
        ledger.engine,
        lambda c: sessions.add_user(c, username=username, password=password, role=role, **kw),
    )


def login(client, username, password, **kw) -> dict:
    return client.post("/v3/login", data={"username": username, "password": password}, **kw).json()


def token_of(client, username, password) -> str:
    body = login(client, username, password)
    assert body["code"] == 0, body
    client.cookies.clear()
    return body["data"]["token"]


def accountlog(client, token, **params) -> dict:
    return client.get(
        "/v3/accountlog", params=params, headers={"Authorization": f"Bearer {token}"}
    ).json()
