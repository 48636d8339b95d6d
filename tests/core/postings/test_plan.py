"""The planner's trade numbers (zhangben/core/postings/plan.py)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from zhangben.core.postings.plan import Plan, trade_numbers

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def _plan(*trade_times) -> Plan:
    plan = Plan()
    plan.trade_no = [None] * len(trade_times)
    plan.trade_time = list(trade_times)
    return plan


def test_a_new_trade_number_is_the_business_date_and_eight_digits():
    now = datetime(2026, 12, 2, 15, 59, 59, 999999, tzinfo=UTC)  # 23:59:59.999999 in Shanghai
    late, next_day = trade_numbers(_plan(None, now + timedelta(microseconds=1)), [0, 1], now,
                                   SHANGHAI)  # fmt: skip
    assert late[:8] == "20261202" and next_day[:8] == "20261203"
    assert len(late) == len(next_day) == 16 and late.isdigit() and next_day.isdigit()


def test_the_kept_business_day_follows_the_clock_and_the_zone():
    """The date is kept between calls; crossing midnight or changing zone must not reuse it."""
    day = datetime(2026, 3, 8, 4, 59, tzinfo=UTC)  # 23:59 in New York, the night DST begins
    seen = []
    asked = [
        (day, NEW_YORK),
        (day + timedelta(minutes=1), NEW_YORK),
        (day, SHANGHAI),
        (day - timedelta(days=1), NEW_YORK),
        (day + timedelta(hours=23), NEW_YORK),
        (day + timedelta(hours=24), NEW_YORK),
    ]
    for when, tz in asked:
        seen.append(trade_numbers(_plan(None), [0], when, tz)[0][:8])
    assert seen == ["20260307", "20260308", "20260308", "20260306", "20260308", "20260309"]


def test_a_given_trade_number_is_kept():
    plan = _plan(None)
    plan.trade_no = ["OWN-1"]
    assert trade_numbers(plan, [0], datetime.now(UTC), SHANGHAI) == ["OWN-1"]
