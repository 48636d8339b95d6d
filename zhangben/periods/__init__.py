"""The month close (月结) as the surfaces use it: the :class:`Periods` facade, which runs the
close checks (:mod:`.checks`: the ledger's and the bills') and closes, reopens, lists and
verifies periods through the core (:mod:`zhangben.core.periods`)."""

from zhangben.periods.service import Periods

__all__ = ["Periods"]
