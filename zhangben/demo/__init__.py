"""The demo: a small ledger to log in to at once (``zhangben demo``, ``make run``), and sample
bill files (``zhangben import-samples``; the tests and benchmarks write their bills with the
same writers).

* :mod:`zhangben.demo.ledger`: the demo ledger (the seeds' accounts and transfers);
* :mod:`zhangben.demo.passwords`: the demo users' passwords;
* :mod:`zhangben.demo.bills`: sample bill writers, one per format, and the demo month.
"""
