"""The ledger core: accounts, postings, the rules, queries and the verifier. It knows nothing
of HTTP; every way in calls :class:`zhangben.core.ledger.Ledger`.

The ledger's invariants, numbered once; code, tests and docs (``docs/ledger.md``) refer to
them by number. ``zhangben verify`` proves I1–I3 (and I10's figures) over a whole ledger after
the fact; the others hold by construction when a posting is written.

I1  Every entry carries its account's balance after it: per account, in id order, each
    balance-after is the one before plus the entry's amount (from zero), and the last one is
    the account's balance.
I2  A transfer's two legs share one posting and sum to zero; a reversal cancels exactly the
    entries it names, once, and is never itself reversed.
I3  Every entry's category and subject are in the chart, of the posting's kind.
I4  Money is exact: integers of 1/10,000 of a unit in the database, ``Decimal`` in Python,
    converted only at the edges. A float never holds money.
I5  Every write obeys the rules R1–R13 (:mod:`zhangben.core.postings.rules`), checked before
    anything is written; a refused request writes nothing.
I6  One idempotency-key rule and one request fingerprint for every way in
    (:mod:`zhangben.core.postings.keys`): a key is posted at most once, and a platform flow
    (``{platform}:{flow}``) is one posting however it came in.
I7  Ledger rows (postings, entries, balances) are written by ``zhangben.store.writers`` alone,
    from plans of :mod:`zhangben.core.postings.plan`.
I8  Entries and postings are append-only: the database itself refuses ``UPDATE`` and
    ``DELETE`` on both tables; a mistake is cancelled by a reversal.
I9  A posting is atomic and serialised per account: its entries and balance updates commit
    together or not at all, with its accounts locked in id order (no deadlock).
I10 A closed period's stored figures stay true (:mod:`zhangben.core.periods`): no entry of a
    scope's accounts is dated before the end of its latest closed month (R13, refused by the
    database for every writer), and a close waits for the writes in flight, so every entry
    written before it is in its figures and none lands in it after. ``zhangben verify``
    recomputes every closed period's figures and hash.
"""
