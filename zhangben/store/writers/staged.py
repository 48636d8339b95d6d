"""The staged writer: bill files written set-based, a staging table then a few INSERT … SELECTs.

The core plans every bill row (key, fingerprint, texts: ``zhangben.core.postings.bills``) and
streams it, as one flat tuple (:data:`COLUMNS`), into a temporary table ``zb_stage`` of the
write transaction — PostgreSQL ``COPY … FROM STDIN``, SQLite ``executemany`` — while the file
is read. Once the whole file is validated, the rows are posted with SQL, whatever their
number:

1. ``zb_fresh``: the staged rows whose key is neither stored for this platform and account
   (one anti-join on the ``bill_rows`` unique index) nor repeated earlier in the file (in
   posting order);
2. ``zb_post``: the fresh rows that move money, numbered in posting order, with their
   balance-after as a running sum (window function) over the account's locked balance, and
   their posting and entry ids (reserved from the sequences in one query, ascending, so the
   balance-after chain follows entry ids);
3. rules R10 and R11 rendered in SQL (one query, on the first offending row, reported as
   :class:`RuleBroken` for the core to word); R13 is the period guard's, a trigger on
   ``entries``: its refusal is reported on the first row dated into a closed period;
4. ``INSERT INTO postings / entries / bill_rows … SELECT`` (one statement each) and one
   balance update of the account.

Posting order is the file's order, or its reverse for a newest-first file (``ord`` is the
row's position in the file). A row's posting key is its platform flow's key
(``{platform}:{flow}``, the one key rule). If one is taken already — the flow was posted by
hand or through the API — the postings insert fails inside a savepoint and :func:`post_staged`
redoes it with those rows linked to the posting that holds the key, when that posting is this
account's one entry of the same amount, or reports R5 broken when it is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from zhangben.store.writers import period_guard
from zhangben.store.writers.outcomes import RuleBroken
from zhangben.store.writers.rows import sqlite_time

#: the staging table's columns, in the order of the runner's tuples
COLUMNS = (
    ("ord", "INTEGER"),
    ("line", "INTEGER"),
    ("ukey", "TEXT"),
    ("pkey", "TEXT"),  # the posting's idempotency key
    ("flow_no", "TEXT"),
    ("trade_time", "TIMESTAMPTZ"),  # SQLite: naive UTC text, as UTCDateTime stores it
    ("trade_day", "INTEGER"),  # yyyymmdd in the ledger's time zone (trade numbers)
    ("income", "BIGINT"),
    ("expense", "BIGINT"),
    ("balance", "BIGINT"),
    ("counterparty", "TEXT"),
    ("order_no", "TEXT"),
    ("business_type", "TEXT"),
    ("remark", "TEXT"),
    ("platform_account", "TEXT"),
    ("ref_id", "TEXT"),
    ("bill_date", "DATE"),  # SQLite: yyyy-mm-dd text
    ("raw", "TEXT"),  # JSON text (SQLite; PostgreSQL only for rows raw_cells cannot hold)
    ("raw_cells", "TEXT"),  # PostgreSQL: the raw cells joined by CELL_SEP, in header order
    ("category_id", "INTEGER"),
    ("subject_id", "INTEGER"),
    ("description", "TEXT"),
    ("ent_remark", "TEXT"),
    ("request_hash", "TEXT"),
)
NAMES = ", ".join(name for name, _ in COLUMNS)
#: joins a row's raw cells for PostgreSQL, which builds the JSON object (json_object) itself
CELL_SEP = "\x1f"
#: sorts and hashes of the set-based statements stay in memory (PostgreSQL)
WORK_MEM = "256MB"
#: rows per SQLite executemany
SQLITE_CHUNK = 5000


class Stage:
    """The staging table of one import, inside the caller's write transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.cursor = conn.connection.driver_connection.cursor()
        self._copy_cm = self._copy = None
        self._pending: list[tuple] = []
        if self.pg:
            types = ", ".join(f"{n} {t}" for n, t in COLUMNS)
            self.cursor.execute(
                "DROP TABLE IF EXISTS pg_temp.zb_stage, pg_temp.zb_fresh, pg_temp.zb_post; "
                f"SET LOCAL work_mem = '{WORK_MEM}'; "
                f"CREATE TEMP TABLE zb_stage ({types}) ON COMMIT DROP"
            )
            self._copy_cm = self.cursor.copy(f"COPY zb_stage ({NAMES}) FROM STDIN")
            self._copy = self._copy_cm.__enter__()
            self.add = self._copy.write_row  # type: ignore[method-assign]
        else:
            types = ", ".join(f"{n} {t.replace('TIMESTAMPTZ', 'TEXT')}" for n, t in COLUMNS)
            types = types.replace("ord INTEGER", "ord INTEGER PRIMARY KEY", 1)
            for name in ("zb_stage", "zb_fresh", "zb_post"):
                self.cursor.execute(f"DROP TABLE IF EXISTS temp.{name}")
            self.cursor.execute(f"CREATE TEMP TABLE zb_stage ({types})")
            marks = ", ".join("?" * len(COLUMNS))
            self._insert = f"INSERT INTO temp.zb_stage ({NAMES}) VALUES ({marks})"  # noqa: S608

    def add(self, row: tuple) -> None:  # SQLite; PostgreSQL binds COPY's write_row instead
        self._pending.append(row)
        if len(self._pending) >= SQLITE_CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            if self.cursor.connection.in_transaction:
                self.cursor.executemany(self._insert, self._pending)
            else:  # staging before the write lock: one transaction of the temp schema
                self.cursor.execute("BEGIN")
                self.cursor.executemany(self._insert, self._pending)
                self.cursor.execute("COMMIT")
            self._pending = []

    def abort(self, exc: BaseException) -> None:
        """End an open COPY after a failure (the transaction is then rolled back)."""
        if self._copy_cm is not None:
            cm, self._copy_cm = self._copy_cm, None
            try:
                cm.__exit__(type(exc), exc, exc.__traceback__)
            except Exception:  # noqa: BLE001, S110 - the original error is what matters
                pass

    def close(self) -> None:
        """All rows are in: end the COPY, index and analyse the staging table."""
        if self.pg:
            cm, self._copy_cm = self._copy_cm, None
            if cm is not None:
                cm.__exit__(None, None, None)
            self.cursor.execute("ANALYZE zb_stage (ord, ukey)")
        else:
            self._flush()
            self.cursor.execute("CREATE INDEX temp.zb_stage_ukey ON zb_stage (ukey, ord)")

    def rows_in_order(self, newest_first: bool) -> Iterator[tuple]:
        """(line, flow_no, trade_time, net, balance, key) of every staged row in posting
        order, streamed (for the continuity check's full replay)."""
        order = "DESC" if newest_first else "ASC"
        sql = (
            "SELECT line, flow_no, trade_time, income - expense, balance, ukey "  # noqa: S608
            f"FROM zb_stage ORDER BY ord {order}"
        )
        if self.pg:
            with self.conn.connection.driver_connection.cursor(name="zb_chain") as cur:
                cur.itersize = 5000
                cur.execute(sql)
                yield from cur
        else:
            cur = self.conn.connection.driver_connection.cursor()
            for line, flow, when, net, bal, key in cur.execute(sql):
                yield line, flow, _sqlite_instant(when), net, bal, key


def ledger_before(stage: Stage, account_id: int, platform: str, balance: int, before) -> tuple:
    """The account's entries dated before ``before`` (the file's earliest row), leaving out
    the file's own flows posted by hand (they are linked to their rows, and count at the
    rows' time): (whether there is any, the balance they add up to). ``balance`` is the
    account's balance, read under its lock: the sum is taken over the entries from ``before``
    on, usually few, not over the whole history. Sums in two parts, so that SQLite's sum()
    never overflows."""
    cur, p = stage.cursor, _params(stage.pg)
    when = before if stage.pg else sqlite_time(before)
    own = (  # noqa: S608
        "e.source = {platform} AND e.platform_balance IS NULL AND e.external_id IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM zb_stage s WHERE s.ukey = e.external_id)"
    ).format(**p)
    args = _bind(stage.pg, dict(account=account_id, platform=platform, b=when), "account", "b")
    with_platform = args | _bind(stage.pg, dict(platform=platform), "platform")
    cur.execute(
        "SELECT 1 FROM entries e WHERE e.account_id = {account} AND e.trade_time < {b} "  # noqa: S608
        f"AND NOT ({own}) LIMIT 1".format(**p),
        with_platform,
    )
    other = cur.fetchone() is not None
    split, mod = 10**9, "%%" if stage.pg else "%"  # psycopg: a literal % is %%
    sums = f"coalesce(sum(e.amount / {split}), 0), coalesce(sum(e.amount {mod} {split}), 0)"
    cur.execute(
        f"SELECT {sums} FROM entries e WHERE e.account_id = {{account}} "  # noqa: S608
        "AND e.trade_time >= {b}".format(**p),
        args,
    )
    high, low = cur.fetchone()
    cur.execute(
        f"SELECT {sums} FROM entries e WHERE e.account_id = {{account}} "  # noqa: S608
        f"AND e.trade_time < {{b}} AND {own}".format(**p),
        with_platform,
    )
    own_high, own_low = cur.fetchone()
    later = (int(high) + int(own_high)) * split + int(low) + int(own_low)
    return other, balance - later


def discard(conn: Connection) -> None:
    """Drop the staging tables of an import on this connection: SQLite keeps a temporary
    table for the connection's life, PostgreSQL drops them at commit (ON COMMIT DROP)."""
    if conn.dialect.name == "postgresql":
        return
    cur = conn.connection.driver_connection.cursor()
    for name in ("zb_stage", "zb_fresh", "zb_post", "zb_linked"):
        cur.execute(f"DROP TABLE IF EXISTS temp.{name}")


@dataclass
class Posted:
    fresh: int  # rows not stored before (bill rows written)
    entries: int  # ledger entries written
    final_balance: int
    linked: int = 0  # fresh rows whose flow was posted before (by hand): linked, not posted


@dataclass
class Target:
    """Where and how the staged rows go."""

    platform: str
    account_id: int
    account_number: str
    allow_overdraft: bool
    max_balance: int
    balance: int  # the account's balance, read under its lock
    import_id: int
    operator_id: int | None
    now: datetime
    newest_first: bool
    headers: tuple[str, ...] = ()  # the raw cells' names, in raw_cells order


def post_staged(stage: Stage, t: Target) -> Posted:
    """Post the staged rows (see the module doc); returns what was written."""
    conn, cur, pg = stage.conn, stage.cursor, stage.pg
    before = "<" if not t.newest_first else ">"
    order = "DESC" if t.newest_first else "ASC"
    temp = "pg_temp." if pg else "temp."
    on_commit = " ON COMMIT DROP" if pg else ""
    p = _params(pg)
    args = dict(platform=t.platform, account=t.account_id)
    cur.execute(
        f"CREATE TEMP TABLE {temp}zb_fresh{on_commit} AS "  # noqa: S608
        "SELECT s.ord, s.income - s.expense AS net, s.trade_day FROM zb_stage s "
        "WHERE NOT EXISTS (SELECT 1 FROM bill_rows b WHERE b.platform = {platform} "
        "AND b.account_id = {account} AND b.unique_key = s.ukey) "
        "AND NOT EXISTS (SELECT 1 FROM zb_stage d WHERE d.ukey = s.ukey "
        f"AND d.ord {before} s.ord)".format(**p),
        _bind(pg, args, "platform", "account"),
    )
    fresh = _scalar(cur, "SELECT count(*) FROM zb_fresh")
    if not fresh:
        return Posted(0, 0, t.balance)
    if pg:
        cur.execute("ANALYZE zb_fresh")
    cur.execute(f"DROP TABLE IF EXISTS {temp}zb_linked")
    cur.execute(f"CREATE TEMP TABLE {temp}zb_linked (ord INTEGER, entry_id BIGINT){on_commit}")
    cur.execute("SAVEPOINT zb_import")
    try:
        try:
            entries = _post(stage, t, order, linked=False)
        except conn.dialect.dbapi.IntegrityError as exc:  # a flow posted already
            if not _is_unique_violation(exc):
                raise
            cur.execute("ROLLBACK TO SAVEPOINT zb_import")
            entries = _post(stage, t, order, linked=True)
    except conn.dialect.dbapi.Error as exc:
        if not period_guard.refused(exc):
            raise
        cur.execute("ROLLBACK TO SAVEPOINT zb_import")
        raise _period_closed(stage, t, order, exc) from None
    cur.execute("RELEASE SAVEPOINT zb_import")
    cur.execute("SELECT balance_after FROM zb_post ORDER BY k DESC LIMIT 1")
    last = cur.fetchone()
    final = t.balance if last is None else last[0]
    cur.execute(
        "UPDATE accounts SET balance = {b} WHERE id = {account}".format(**p),  # noqa: S608
        _bind(pg, dict(b=final, account=t.account_id), "b", "account"),
    )
    _insert_bill_rows(stage, t)
    return Posted(fresh, entries, final, _scalar(cur, "SELECT count(*) FROM zb_linked"))


def _post(stage: Stage, t: Target, order: str, *, linked: bool) -> int:
    """Number the fresh rows that move money, check them, insert postings and entries."""
    cur, pg = stage.cursor, stage.pg
    p = _params(pg)
    temp = "pg_temp." if pg else "temp."
    on_commit = " ON COMMIT DROP" if pg else ""
    cur.execute(f"DROP TABLE IF EXISTS {temp}zb_post")
    skip = ""
    if linked:
        _link(stage, t)
        skip = " AND NOT EXISTS (SELECT 1 FROM zb_linked l WHERE l.ord = f.ord)"
    if not pg:
        _check_sums(stage, t, order, skip)
    window = f"WINDOW w AS (ORDER BY f.ord {order} ROWS UNBOUNDED PRECEDING)"
    numbered = (
        "SELECT f.ord, f.trade_day, row_number() OVER w AS k, "  # noqa: S608
        f"{{start}} + sum(f.net) OVER w AS balance_after FROM zb_fresh f WHERE f.net <> 0{skip} "
        f"{window}"
    ).format(**p)
    if pg:
        ids = (
            "SELECT row_number() OVER (ORDER BY v) AS k, v FROM (SELECT nextval("
            "CAST(%(seq)s AS regclass)) AS v FROM generate_series(1, (SELECT count(*) FROM p))) q"
        )
        sql = (
            f"CREATE TEMP TABLE zb_post{on_commit} AS WITH p AS ({numbered}), "  # noqa: S608
            f"pid AS ({ids.replace('%(seq)s', '%(pseq)s')}), "
            f"eid AS ({ids.replace('%(seq)s', '%(eseq)s')}) "
            "SELECT p.ord, p.k, p.balance_after, pid.v AS posting_id, eid.v AS entry_id, "
            "p.trade_day::text || lpad(floor(random() * 100000000)::int::text, 8, '0') "
            "AS trade_no FROM p JOIN pid USING (k) JOIN eid USING (k)"
        )
        cur.execute(
            sql,
            dict(start=t.balance, pseq=_sequence(cur, "postings"), eseq=_sequence(cur, "entries")),
        )
    else:
        pstart, estart = _sqlite_next_id(cur, "postings"), _sqlite_next_id(cur, "entries")
        cur.execute(
            f"CREATE TEMP TABLE {temp}zb_post AS SELECT ord, k, balance_after, "  # noqa: S608
            f"{pstart} + k - 1 AS posting_id, {estart} + k - 1 AS entry_id, "
            "printf('%d%08d', trade_day, abs(random()) % 100000000) AS trade_no "
            f"FROM ({numbered})",
            dict(start=t.balance),
        )
        cur.execute("CREATE INDEX temp.zb_post_ord ON zb_post (ord)")
    entries = _scalar(cur, "SELECT count(*) FROM zb_post")
    if not entries:
        return 0
    if pg:
        cur.execute("ANALYZE zb_post")
    _check(stage, t)
    cur.execute(
        "INSERT INTO postings (id, kind, trade_no, idempotency_key, request_hash, "  # noqa: S608
        "reverses_posting_id, created_at) SELECT p.posting_id, "
        "CASE WHEN s.income > s.expense THEN 'income' ELSE 'expense' END, p.trade_no, "
        "s.pkey, s.request_hash, NULL, {now} "
        "FROM zb_post p JOIN zb_stage s ON s.ord = p.ord".format(**p),
        _bind(pg, dict(now=_when(pg, t.now)), "now"),
    )
    cur.execute(
        "INSERT INTO entries (id, posting_id, account_id, type, amount, balance_after, "  # noqa: S608
        "trade_no, trade_time, recorded_at, operator_id, category_id, subject_id, "
        "counterparty, description, remark, source, external_id, reverses_entry_id, "
        "platform_balance) SELECT p.entry_id, p.posting_id, {account}, "
        "CASE WHEN s.income > s.expense THEN 'income' ELSE 'expense' END, "
        "s.income - s.expense, p.balance_after, p.trade_no, s.trade_time, {now}, "
        "CAST({operator} AS INTEGER), "
        "s.category_id, s.subject_id, s.counterparty, s.description, "
        "s.ent_remark, {platform}, coalesce(s.flow_no, s.ukey), NULL, s.balance "
        "FROM zb_post p JOIN zb_stage s ON s.ord = p.ord".format(**p),
        _bind(
            pg,
            dict(
                account=t.account_id,
                now=_when(pg, t.now),
                operator=t.operator_id,
                platform=t.platform,
            ),
            "account",
            "now",
            "operator",
            "platform",
        ),
    )
    return entries


def _link(stage: Stage, t: Target) -> None:
    """Rows whose flow is posted already: linked to that posting's entry when it is this
    account's one entry of the same amount (the flow came in by hand first), else R5."""
    cur = stage.cursor
    cur.execute(
        "SELECT s.ord, s.line, s.flow_no, s.order_no, s.income - s.expense, s.pkey, "
        "q.id, e.id, e.account_id, e.amount FROM zb_fresh f "
        "JOIN zb_stage s ON s.ord = f.ord JOIN postings q ON q.idempotency_key = s.pkey "
        "JOIN entries e ON e.posting_id = q.id WHERE f.net <> 0 ORDER BY s.ord, e.id"
    )
    found: dict[int, list] = {}
    for row in cur.fetchall():
        found.setdefault(row[0], []).append(row)
    links = []
    for ord_, rows in found.items():
        _, line, flow, order, net, key, posting, entry, account, amount = rows[0]
        if len(rows) != 1 or account != t.account_id or amount != net:
            raise RuleBroken("R5", key, posting, position=(line, flow, order))
        links.append((ord_, entry))
    if links:
        marks = "%s, %s" if stage.pg else "?, ?"
        cur.executemany(f"INSERT INTO zb_linked (ord, entry_id) VALUES ({marks})", links)  # noqa: S608


def _check(stage: Stage, t: Target) -> None:
    """R10 and R11 over the numbered rows: the first row that would overdraw the account
    (without overdraft) or overflow it, reported with its facts."""
    cur = stage.cursor
    cond = f"abs(p.balance_after) > {int(t.max_balance)}"
    if not t.allow_overdraft:
        cond += " OR (p.balance_after < 0 AND s.income < s.expense)"
    cur.execute(
        "SELECT p.balance_after, s.income - s.expense, s.line, "  # noqa: S608
        "s.flow_no, s.order_no FROM zb_post p JOIN zb_stage s ON s.ord = p.ord "
        f"WHERE {cond} ORDER BY p.k LIMIT 1"
    )
    bad = cur.fetchone()
    if bad is None:
        return
    raise _broken(t, *bad)


def _period_closed(stage: Stage, t: Target, order: str, exc) -> RuleBroken:
    """R13: the period guard refused an entry; the first row (in posting order) dated before
    the end of the latest closed period covering the account, with its line."""
    cur, pg = stage.cursor, stage.pg
    if pg:
        facts = period_guard.from_pg(exc).facts[0]
    else:
        number, month, shop, ends = period_guard.latest_closed(cur, t.account_id, pg=False)
        facts = {"account": number, "month": month, "shop": shop, "ends_at": ends}
    bound = facts["ends_at"] if pg else sqlite_time(facts["ends_at"])
    cur.execute(
        "SELECT s.line, s.flow_no, s.order_no, s.trade_time FROM zb_fresh f "  # noqa: S608
        "JOIN zb_stage s ON s.ord = f.ord WHERE f.net <> 0 AND s.trade_time < {b} "
        f"ORDER BY f.ord {order} LIMIT 1".format(b="%(b)s" if pg else ":b"),
        {"b": bound},
    )
    line, flow, order_no, when = cur.fetchone()
    facts["trade_time"] = period_guard.instant(when)
    return RuleBroken(period_guard.RULE, facts, position=(line, flow, order_no))


def _broken(
    t: Target, after: int, delta: int, line: int, flow: str | None, order: str | None
) -> RuleBroken:
    """``position``: the row's line in the file, its platform flow number and order number."""
    if after < 0 and delta < 0 and not t.allow_overdraft:
        detail = f"{t.account_number}|{after - delta}|{after}"
        return RuleBroken("R10", detail, position=(line, flow, order))
    return RuleBroken("R11", t.account_number, position=(line, flow, order))


def _check_sums(stage: Stage, t: Target, order: str, skip: str) -> None:
    """SQLite: before the running sums, make sure they fit 64 bits. SQLite's ``sum()`` fails
    with "integer overflow" where PostgreSQL's goes on in ``numeric`` for :func:`_check` to
    refuse the row. Only when the rows' amounts could add up past the maximum balance
    (``total()`` is a float, hence the margin) are the sums run here, exactly, to find the
    first row that breaks R10 or R11 as :func:`_check` would; if none does, every running sum
    stays within the maximum, and the SQL is safe."""
    cur = stage.cursor
    cur.execute(
        f"SELECT total(abs(f.net)) FROM zb_fresh f WHERE f.net <> 0{skip}"  # noqa: S608
    )
    if abs(t.balance) + cur.fetchone()[0] < 0.9 * t.max_balance:
        return
    rows = stage.conn.connection.driver_connection.cursor()  # closed, so never left mid-read
    try:
        rows.execute(
            "SELECT f.net, s.line, s.flow_no, s.order_no FROM zb_fresh f "  # noqa: S608
            f"JOIN zb_stage s ON s.ord = f.ord WHERE f.net <> 0{skip} ORDER BY f.ord {order}"
        )
        balance = t.balance
        for net, line, flow, order_no in rows:
            balance += net
            if abs(balance) > t.max_balance or (balance < 0 and net < 0 and not t.allow_overdraft):
                raise _broken(t, balance, net, line, flow, order_no)
    finally:
        rows.close()


def _insert_bill_rows(stage: Stage, t: Target) -> None:
    """Bill rows in posting order (their ids follow it, as the continuity checks expect)."""
    cur, pg = stage.cursor, stage.pg
    p = _params(pg)
    order = "DESC" if t.newest_first else "ASC"
    raw = "s.raw"
    if pg:
        raw = (
            "coalesce(CAST(s.raw AS json), json_object(CAST(%(headers)s AS text[]), "
            "string_to_array(s.raw_cells, %(sep)s)))"
        )
    cur.execute(
        "INSERT INTO bill_rows (platform, account_id, unique_key, import_id, entry_id, "  # noqa: S608
        "line, flow_no, trade_time, income, expense, balance, counterparty, order_no, "
        "business_type, remark, platform_account, ref_id, bill_date, raw, imported_at, "
        "updated_at) SELECT {platform}, {account}, s.ukey, {import_id}, "
        "coalesce(p.entry_id, l.entry_id), s.line, "
        "s.flow_no, s.trade_time, s.income, s.expense, s.balance, s.counterparty, s.order_no, "
        f"s.business_type, s.remark, s.platform_account, s.ref_id, s.bill_date, {raw}, "
        "{now}, {now} FROM zb_fresh f JOIN zb_stage s ON s.ord = f.ord "
        "LEFT JOIN zb_post p ON p.ord = f.ord LEFT JOIN zb_linked l ON l.ord = f.ord "
        f"ORDER BY f.ord {order}".format(**p),
        _bind(
            pg,
            dict(
                platform=t.platform,
                account=t.account_id,
                import_id=t.import_id,
                now=_when(pg, t.now),
            ),
            "platform",
            "account",
            "import_id",
            "now",
        )
        | ({"headers": list(t.headers), "sep": CELL_SEP} if pg else {}),
    )


# -- small helpers ----------------------------------------------------------------------------

_NAMES = ("platform", "account", "now", "operator", "import_id", "b", "start")


def _params(pg: bool) -> dict[str, str]:
    """Placeholders by name: psycopg ``%(x)s``, sqlite3 ``:x``."""
    return {n: (f"%({n})s" if pg else f":{n}") for n in _NAMES}


def _bind(pg: bool, values: dict, *names: str) -> dict:
    return {n: values[n] for n in names}


def _scalar(cur, sql: str):
    cur.execute(sql)
    return cur.fetchone()[0]


def _when(pg: bool, value: datetime):
    return value if pg else sqlite_time(value)


def _sequence(cur, table: str) -> str:
    cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
    return cur.fetchone()[0]


def _sqlite_next_id(cur, table: str) -> int:
    """The next id after SQLite's AUTOINCREMENT high-water mark (the write lock is held)."""
    cur.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
    found = cur.fetchone()
    cur.execute(f"SELECT max(id) FROM {table}")  # noqa: S608
    top = cur.fetchone()[0]
    return max(found[0] if found else 0, top or 0) + 1


def _is_unique_violation(orig: Exception) -> bool:
    code = getattr(orig, "sqlstate", None)
    if code is not None:
        return code == "23505"
    return "UNIQUE constraint failed" in str(orig)


def _sqlite_instant(text: str) -> datetime:
    from datetime import UTC

    return datetime.fromisoformat(text).replace(tzinfo=UTC)
