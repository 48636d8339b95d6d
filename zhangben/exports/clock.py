"""Instants on the business time zone's wall clock, cheaply: the zone's offset is looked up
once per UTC hour (``astimezone`` on every cell was the largest single cost of an export),
the rest is integer arithmetic. Exact: an hour whose offset changes inside it, or is not a
whole number of hours (for the text), takes the slow way."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

#: "MM:SS" of every second of an hour
_MMSS = tuple(f"{m:02d}:{s:02d}" for m in range(60) for s in range(60))
_UNIX_DAY = 25569  # Excel's serial of 1970-01-01
_UNIX_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
#: zones that are UTC all year: an instant in one of them is read off its fields (the
#: databases hand instants over in UTC), cheaper than ``timestamp()``
_UTC_KEYS = frozenset(("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal",
                       "Etc/Zulu", "Zulu", "Etc/GMT", "GMT", "Etc/GMT0", "GMT0"))  # fmt: skip


def _is_utc(zone: tzinfo | None) -> bool:
    if isinstance(zone, timezone):
        return zone.utcoffset(None) == timedelta(0)
    return getattr(zone, "key", None) in _UTC_KEYS


class LocalClock:
    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        #: UTC hour → (local "YYYY-MM-DD HH:" or None, offset in seconds or None)
        self._hours: dict[int, tuple[str | None, int | None]] = {}
        self._utc: dict[tzinfo | None, bool] = {}

    def seconds(self, instant: datetime) -> int:
        """Whole seconds since 1970 (UTC) of an aware instant."""
        utc = self._utc.get(instant.tzinfo)
        if utc is None:
            utc = self._utc[instant.tzinfo] = _is_utc(instant.tzinfo)
        if utc:
            return (
                (instant.toordinal() - _UNIX_ORDINAL) * 86400
                + instant.hour * 3600
                + instant.minute * 60
                + instant.second
            )
        return round(instant.timestamp() - instant.microsecond / 1e6)

    def _hour(self, hour: int) -> tuple[str | None, int | None]:
        try:
            start = datetime.fromtimestamp(hour * 3600, self.tz)
            offset = start.utcoffset()
            end = datetime.fromtimestamp(hour * 3600 + 3599, self.tz).utcoffset()
        except (OverflowError, ValueError):  # the calendar's edges: the slow way says
            start, offset, end = None, None, 0
        if offset != end:
            known = (None, None)  # a change of offset inside the hour
        else:
            seconds = int(offset.total_seconds())
            whole = seconds % 3600 == 0 and offset.microseconds == 0
            known = (f"{start:%Y-%m-%d %H:}" if whole else None, seconds)
        self._hours[hour] = known
        return known

    def text(self, instant: datetime) -> str:
        """``2026-10-01 08:00:00``: to the second (truncated, as ``isoformat``)."""
        hour, rest = divmod(self.seconds(instant), 3600)
        known = self._hours.get(hour) or self._hour(hour)
        if known[0] is None:
            return instant.astimezone(self.tz).isoformat(" ", "seconds")[:19]
        return known[0] + _MMSS[rest]

    def serial(self, instant: datetime) -> str:
        """Excel's serial date-time (days since 1899-12-30) on the local clock, as text."""
        micro, s = instant.microsecond, self.seconds(instant)
        known = self._hours.get(s // 3600) or self._hour(s // 3600)
        if known[1] is None:
            local = instant.astimezone(self.tz)
            seconds = local.hour * 3600 + local.minute * 60 + local.second + micro / 1e6
            return repr(local.toordinal() - 693594 + seconds / 86400)
        days, seconds = divmod(s + known[1], 86400)
        return repr(days + _UNIX_DAY + (seconds + micro / 1e6) / 86400)
