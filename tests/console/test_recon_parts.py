"""Parts of lines in the console's match form over real HTTP, on SQLite and PostgreSQL: each
ticked expected line or bill row takes a part of its open amount (本次核销), the match records
the parts, and a part that is above what is left, or not an amount, is refused on the whole
page (the parts kept) with nothing written."""

from __future__ import annotations

import re

from tests.console.support import csrf_of
from tests.console.test_recon import _as, _written, app, recon  # noqa: F401
from zhangben.demo.orders import PLANTED

ITEM = re.compile(r'name="([ea])" value="(\d+)" data-side="\w+" data-amount="(-?\d+)"')


def _yuan(minor: int) -> str:
    return f"{minor // 10_000}.{minor % 10_000:04d}"


def test_parts_are_matched_and_an_over_part_is_refused(app, recon):  # noqa: F811
    key = PLANTED.difference  # 994.00 expected, 695.80 paid
    url = f"/console/recon/orders/S001/{key}/match"
    with _as(app, "clerk") as client:
        page = client.get(f"/console/recon/orders/S001/{key}")
        items = [(side, int(i), int(amount)) for side, i, amount in ITEM.findall(page.text)]
        e = next(x for x in items if x[0] == "e" and x[2] > 0)
        a = next(x for x in items if x[0] == "a" and 0 < x[2] < e[2])
        assert f'name="pe_{e[1]}"' in page.text and f'name="pa_{a[1]}"' in page.text
        csrf = csrf_of(page.text)
        ticked = {"csrf": csrf, "e": [str(e[1])], "a": [str(a[1])]}
        before = _written(recon)

        over = client.post(url, data={**ticked, f"pa_{a[1]}": _yuan(a[2] + 1)})
        assert over.status_code == 409 and "核销金额超过未核销金额" in over.text
        assert f'value="{_yuan(a[2] + 1)}"' in over.text  # the page kept whole, the part kept
        bad = client.post(url, data={**ticked, f"pe_{e[1]}": "12,5"})
        assert bad.status_code == 400 and f"应收/应付 {e[1]} 的核销金额「12,5」无效" in bad.text
        zero = client.post(url, data={**ticked, f"pe_{e[1]}": "0"})
        assert zero.status_code == 400
        assert _written(recon) == before

        # the expected line in part, as much as the bill row brought: exact
        done = client.post(url, data={**ticked, f"pe_{e[1]}": _yuan(a[2])})
        assert done.status_code == 200 and "已核销，对账组" in done.text, done.text
        group = recon.groups(state="active", limit=1)[0]
        assert group.outcome == "exact" and group.difference == 0
        assert {(ln.side, ln.item_id, ln.amount) for ln in group.lines} == {
            ("expected", e[1], a[2]),
            ("actual", a[1], a[2]),
        }
        assert recon.expected(e[1]).applied == a[2]
        left = re.search(rf'name="e" value="{e[1]}" data-side="expected" data-amount="(-?\d+)"',
                         done.text)  # fmt: skip
        assert left and int(left.group(1)) == e[2] - a[2]  # the rest stays open
