"""How money is written: one planner, one rule list, writers chosen by the shape of the write.

* :mod:`.keys` — the idempotency-key rule and the request fingerprint;
* :mod:`.plan` — requests → a columnar :class:`~.plan.Plan` (rules R1–R4);
* :mod:`.rules` — the rule catalogue and the reference checks over locked accounts (R5–R11);
* :mod:`.reversal` — R12, from the stored entries;
* :mod:`.execute` — a plan carried out by one of the writers in ``zhangben.store.writers``;
* :mod:`.bills` — bill rows planned for the staged writer.
"""
