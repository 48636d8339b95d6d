"""Write the figures of the last reliability run into docs/reliability.md.

    python -m tests.reliability.report RESULTS.jsonl docs/reliability.md

``RESULTS.jsonl`` is what the tests appended (``ZHANGBEN_RELIABILITY_RESULTS``); the page's
part between ``<!-- results -->`` and ``<!-- /results -->`` is replaced by one table per test.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

START, END = "<!-- results -->", "<!-- /results -->"


def render(lines: list[dict], when: str) -> str:
    by_test: dict[str, list[dict]] = {}
    for line in lines:
        by_test.setdefault(line.pop("test"), []).append(line)
    modes = sorted({row.get("mode", "?") for rows in by_test.values() for row in rows})
    out = [
        f"Last run: {when}, mode {', '.join(modes)}, on {os.cpu_count()} CPUs "
        f"({platform.machine()}, Python {platform.python_version()}). Written by "
        "`python -m tests.reliability.report` from the run's figures.",
        "",
    ]
    for test, rows in by_test.items():
        columns = [c for c in rows[0] if c != "mode"]
        for row in rows[1:]:
            columns += [c for c in row if c not in columns and c != "mode"]
        out += [f"### {test}", ""]
        out.append("| " + " | ".join(c.replace("_", " ") for c in columns) + " |")
        out.append("|" + "---|" * len(columns))
        for row in rows:
            out.append("| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |")
        out.append("")
    return "\n".join(out)


def _cell(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def main(results: str, page: str) -> None:
    lines = [json.loads(x) for x in Path(results).read_text().splitlines() if x.strip()]
    if not lines:
        raise SystemExit(f"{results}: no figures")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = Path(page).read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    Path(page).write_text(f"{head}{START}\n{render(lines, when)}\n{END}{tail}", encoding="utf-8")
    print(f"{page}: {len(lines)} results written")


if __name__ == "__main__":
    main(*sys.argv[1:3])
