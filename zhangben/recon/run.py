"""A matching run (reconciliation.md §A.2.3), inside the service's one write transaction: key
the new bill rows, then every open (shop, key) group up to the run's cut through the matcher,
page by page in (shop, key) order; automatic proposals become active groups with one audit
event each, the others stored suggestions.

Pages hold whole groups and about :data:`PAGE_ROWS` items a side, so memory stays flat however
many items there are. A thread writes one page and reads the next while the run matches
(:class:`~zhangben.recon.store.Pipeline`): the database works while Python matches. A page's
items are read once (no later page holds their keys), so a page may be written any time
before the run ends."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from json.encoder import encode_basestring

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zhangben.recon import queues
from zhangben.recon import store as st
from zhangben.recon.booked import closed_months, forward, month_of
from zhangben.recon.matching import Item, Rule, match_group
from zhangben.store import recon_chain
from zhangben.store.bills_tables import bill_rows
from zhangben.store.recon_tables import bill_recon, expected_items, match_groups, recon_runs

PAGE_ROWS = 20_000  # items read per page of a run: memory stays flat however many there are


@dataclass(frozen=True)
class RunReport:
    run_id: int | None
    dry_run: bool
    cut_bill_row_id: int
    cut_expected_id: int
    counts: dict = field(default_factory=dict)
    sha256: str = ""


def run(
    conn: Connection, rules: tuple[Rule, ...], tz: tzinfo, *, dry_run: bool, actor: str
) -> RunReport:
    """The run, its ``recon_runs`` row and its ``run`` event; the caller holds the recon lock
    and rolls a dry run back. ``rules`` a tuple: the matcher orders it once, not per group."""
    started = datetime.now(UTC)
    cut_b = conn.execute(sa.select(sa.func.coalesce(sa.func.max(bill_rows.c.id), 0))).scalar()
    cut_e = conn.execute(sa.select(sa.func.coalesce(sa.func.max(expected_items.c.id), 0))).scalar()
    counts: Counter = Counter()
    counts["keyed"] = st.key_rows(conn, upto=cut_b, now=started)
    st.analyze(conn, bill_recon, expected_items)  # the pages' plans
    g = match_groups
    counts["superseded"] = conn.execute(
        g.update().where(g.c.state == "suggested").values(state="superseded")
    ).rowcount
    matcher = _Pages(conn, rules, tz, started, counts)
    with st.Pipeline(conn, started, lambda after: _page(conn, after, cut_b, cut_e)) as io:
        io.start(None)
        page, done = io.result(), None
        while page:
            io.start(done)  # the thread writes the page before and reads the next one
            done = matcher.match(page)
            page = io.result()
        io.start(done, read=False)
        io.result()
    st.sync_ids(conn, match_groups)
    finished = datetime.now(UTC)
    body = {"cut_bill_row_id": cut_b, "cut_expected_id": cut_e, "counts": dict(counts)}
    digest = hashlib.sha256(recon_chain.canonical(body).encode()).hexdigest()
    run_id = matcher.run_id
    conn.execute(
        recon_runs.insert().values(
            id=run_id, actor=actor, cut_bill_row_id=cut_b, cut_expected_id=cut_e,
            dry_run=dry_run, counts=recon_chain.canonical(dict(counts)),
            report_sha256=digest, started_at=started, finished_at=finished,
        )
    )  # fmt: skip
    st.sync_ids(conn, recon_runs)
    recon_chain.append(
        conn,
        [{"actor": actor[:128], "action": "run", "subject_type": "run", "subject_id": run_id,
          "before": None, "after": body, "reason": None}],
        at=datetime.now(UTC),
    )  # fmt: skip
    return RunReport(None if dry_run else run_id, dry_run, cut_b, cut_e, dict(counts), digest)


class _Pages:
    """The matcher over pages: groups, lines and events as tuples for the writer, the counts."""

    def __init__(self, conn, rules, tz, started: datetime, counts: Counter) -> None:
        self.rules, self.tz, self.counts = rules, tz, counts
        self.closed = closed_months(conn)
        self.periods: dict[tuple[str, str], str] = {}
        self.run_id = st.next_id(conn, recon_runs)
        self.gid = st.next_id(conn, match_groups)
        self.started = started
        self.day = st.group_day(started)  # "HX20261204": formatted once

    def match(self, page: dict) -> tuple[list, list, list, list]:
        groups, lines, applied, events = [], [], [], []
        counts, rules, run_id, now = self.counts, self.rules, self.run_id, self.started
        day, gid = self.day, self.gid
        for (shop, key), (es, as_) in page.items():
            counts["groups"] += 1
            for p in match_group(es, as_, rules):
                total_e = sum([a for _, a in p.expected])
                total_a = sum([a for _, a in p.actual])
                ls = [(gid, st.E, i, a) for i, a in p.expected]
                ls += [(gid, st.A, i, a) for i, a in p.actual]
                lines += ls
                group_no = f"{day}-{gid}"
                actor = f"rule:{p.rule_id}" if p.rule_id else "system"
                period = None
                if p.auto:
                    period = self._period(shop, es, as_, p)
                    counts[f"auto_{p.outcome}"] += 1
                    counts["auto_amount"] += abs(total_a) or abs(total_e)
                    after = _after_text(group_no, p.outcome, total_a - total_e, p.gap_type, ls,
                                        period)  # fmt: skip
                    events.append((actor, "matched", "group", gid, None, after, None))
                    applied += ls
                    origin, state = p.origin, "active"
                else:
                    counts[f"suggested_{p.outcome}"] += 1
                    origin, state = "auto", "suggested"
                groups.append((
                    gid, group_no, shop, key, origin, p.outcome, total_e, total_a,
                    total_a - total_e, p.gap_type, p.rule_id, None, run_id, state, actor, now,
                    None, period,
                ))  # fmt: skip
                gid += 1
        self.gid = gid
        return groups, lines, applied, events

    def _period(self, shop: str, es, as_, p) -> str:
        """The month the match is booked in: its latest line's, or the next open one."""
        if len(p.expected) == len(es) and len(p.actual) == len(as_):  # the whole group
            latest = max([i.at for i in es] + [i.at for i in as_])
        else:
            ids = {i for i, _ in p.expected}, {i for i, _ in p.actual}
            latest = max(
                [i.at for i in es if i.id in ids[0]] + [i.at for i in as_ if i.id in ids[1]]
            )
        month = month_of(latest, self.tz)
        period = self.periods.get((shop, month))
        if period is None:  # one lookup per (shop, month)
            period = self.periods[shop, month] = forward(self.closed, {shop}, month)
        if period != month:
            self.counts["booked_forward"] += 1
        return period


def _after_text(group_no, outcome, difference, gap_type, lines, period) -> str:
    """The canonical JSON of a match's event ``after``: ``recon_chain.canonical`` of what
    ``service._event_after`` makes for a person's match, written out directly (a run makes
    one per match). ``tests/recon/test_run.py`` holds the two to the same text."""
    gap = "null" if gap_type is None else encode_basestring(gap_type)
    per = "null" if period is None else encode_basestring(period)
    ls = ",".join([f'["{side}",{item},{amount}]' for _, side, item, amount in lines])
    return (
        f'{{"difference":{difference},"gap_type":{gap},"group_no":{encode_basestring(group_no)},'
        f'"lines":[{ls}],"outcome":"{outcome}","period":{per}}}'
    )


def _page(conn: Connection, after, cut_b: int, cut_e: int):
    """The next (shop, key) groups after ``after``, whole, about :data:`PAGE_ROWS` items of
    each side (:func:`queues.page_end`), and where the next page starts."""
    while True:
        end = queues.page_end(conn, after, cut_b, cut_e, PAGE_ROWS)
        rows = queues.open_items(conn, after, cut_b, cut_e, None, upto=end)
        if rows or end is None:
            break
        after = end  # a range of bill rows applied in full already: on to the next
    if not rows:
        return {}, after
    groups: dict[tuple[str, str], tuple[list[Item], list[Item]]] = {}
    make, expected = Item._make, st.E
    for row in rows:
        item = make(row)
        es, as_ = groups.setdefault((item.shop, item.key), ([], []))
        (es if item.side == expected else as_).append(item)
    return groups, end or (rows[-1].shop, rows[-1].key)
