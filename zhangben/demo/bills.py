"""Sample bill files: writers of realistic bills for tests, demos and benchmarks, and the
month of demo bills of the README walkthrough (``zhangben import-samples``).

``chained_txns(n)`` yields neutral transactions whose balances chain; each ``write_*``
function takes those (or dicts keyed by the format's canonical headers, to write odd cells)
and streams a file in the platform's layout: preamble, header, rows, summary/footer.

:func:`write_demo_files` writes, for March 2024: the Alipay download (ZIP with the GBK 账务明细
CSV and its 汇总), the JD wallet flow (GBK CSV), and a tampered copy of the JD wallet file with
one row removed, which the continuity check and ``zhangben verify`` point at.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from zhangben.imports.formats import alipay as _alipay
from zhangben.imports.rows import ZERO, parse_amount, parse_time

CENT = Decimal("0.01")
Row = Mapping[str, str]
Line = list | str  # a CSV row, or a raw text line written as is


@dataclass(frozen=True)
class SampleTxn:
    """A neutral transaction: ``amount`` > 0 is income, < 0 expense; ``balance`` after it."""

    seq: int
    time: datetime
    amount: Decimal
    balance: Decimal
    flow_no: str
    order_no: str
    counterparty: str
    business_type: str
    remark: str


def chained_txns(
    n: int,
    *,
    start_balance: Decimal = Decimal("1000.00"),
    start: datetime = datetime(2024, 3, 1, 8, 0, 0),  # noqa: B008
    seed: int = 7,
) -> Iterator[SampleTxn]:
    """``n`` deterministic transactions with consistent running balances (never negative)."""
    rnd = random.Random(seed)
    balance, when = start_balance, start
    for i in range(1, n + 1):
        when += timedelta(seconds=rnd.randint(1, 90))
        amount = Decimal(rnd.randint(1, 500_000)) / 100
        if rnd.random() < 0.4 and amount <= balance:
            amount = -amount
        balance += amount
        kind = "在线支付" if amount > 0 else rnd.choice(["转账", "提现", "服务费"])
        yield SampleTxn(
            seq=i,
            time=when,
            amount=amount,
            balance=balance,
            flow_no=f"{20240301000000000000 + i}",
            order_no=f"T{seed:02d}{i:010d}",
            counterparty=f"buyer{i % 97}@example.com",
            business_type=kind,
            remark=f"订单{i}",
        )


def money(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP):.2f}"


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _amt(text: str | None) -> Decimal:
    try:
        return parse_amount(text or "")
    except ValueError:
        return ZERO  # deliberately bad sample cells do not count in totals


# --- output ----------------------------------------------------------------------------------


def write_lines(path: Path | str, lines: Iterable[Line], encoding: str = "utf-8") -> Path:
    """Stream CSV rows (lists) and raw text lines (str) to ``path``; ``utf-8-sig`` adds a BOM."""
    path = Path(path)
    with open(path, "w", encoding=encoding, newline="") as f:
        _write_to(f, lines)
    return path


def _write_to(f, lines: Iterable[Line]) -> None:
    writer = csv.writer(f, lineterminator="\r\n")
    for line in lines:
        if isinstance(line, str):
            f.write(line + "\r\n")
        else:
            writer.writerow(line)


def write_xlsx_lines(path: Path | str, lines: Iterable[Line]) -> Path:
    """Same lines as a one-sheet XLSX (write-only, streaming); raw lines become one cell."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    for line in lines:
        ws.append([line] if isinstance(line, str) else list(line))
    wb.save(path)
    return Path(path)


# --- Alipay ----------------------------------------------------------------------------------

RULE = "-" * 40
ALIPAY_IDS = ("账务流水号", "业务流水号", "商户订单号", "对方账号")


def alipay_row(t: SampleTxn, expense_sign: str = "-") -> dict[str, str]:
    income = t.amount if t.amount > 0 else ZERO
    expense = -t.amount if t.amount < 0 else ZERO
    return {
        "账务流水号": t.flow_no,
        "业务流水号": f"B{t.flow_no}",
        "商户订单号": t.order_no,
        "商品名称": f"商品{t.seq % 13}",
        "发生时间": _ts(t.time),
        "对方账号": t.counterparty,
        _alipay.INCOME: money(income),
        _alipay.EXPENSE: f"{expense_sign}{money(expense)}" if expense else "0.00",
        _alipay.BALANCE: money(t.balance),
        "交易渠道": "支付宝",
        "业务类型": t.business_type,
        "备注": t.remark,
    }


def alipay_lines(
    rows: Iterable[SampleTxn | Row],
    *,
    parens: str = "full",
    tab_after_ids: bool = True,
    expense_sign: str = "-",
    account: str = "20881234567890120156",
    footer: bool = True,
    headers: tuple[str, ...] | None = None,
    typed: bool = False,
) -> Iterator[Line]:
    """The 账务明细 layout. ``parens="ascii"`` writes ``收入金额(+元)``; ``typed`` keeps
    datetimes/Decimals as values (for XLSX)."""
    headers = headers or _alipay.HEADERS
    shown = [h.replace("（", "(").replace("）", ")") if parens == "ascii" else h for h in headers]
    yield "#支付宝账务明细查询"
    yield f"#账号：[{account}]"
    yield "#起始日期：[2024年03月01日 00:00:00]   终止日期：[2024年03月02日 00:00:00]"
    yield f"#{RULE}账务明细列表{RULE}"
    yield [*shown, ""] if not typed else shown
    n_in = n_out = 0
    t_in = t_out = ZERO
    for r in rows:
        cells = alipay_row(r, expense_sign) if isinstance(r, SampleTxn) else dict(r)
        inc, out = _amt(cells.get(_alipay.INCOME)), abs(_amt(cells.get(_alipay.EXPENSE)))
        n_in, t_in = n_in + (inc > 0), t_in + inc
        n_out, t_out = n_out + (out > 0), t_out + out
        out_row = []
        for h in headers:
            v = cells.get(h, "")
            if typed and isinstance(r, SampleTxn):
                v = _typed(h, v)
            elif tab_after_ids and h in ALIPAY_IDS and v:
                v += "\t"
            out_row.append(v)
        yield out_row if typed else [*out_row, ""]
    if footer:
        yield f"#{RULE}账务明细列表结束{RULE}"
        yield f"#收入合计：{n_in}笔，共{money(t_in)}元"
        yield f"#支出合计：{n_out}笔，共-{money(t_out)}元"
        yield "#导出时间：[2024年03月02日 09:00:00]"


def _typed(header: str, value: str):
    if header == "发生时间":
        return parse_time(value).replace(tzinfo=None)
    if header in (_alipay.INCOME, _alipay.EXPENSE, _alipay.BALANCE):
        return float(value)  # spreadsheet numbers, as Excel stores them
    return value


def write_alipay_csv(path, rows, *, encoding: str = "gbk", **kw) -> Path:
    """Alipay 账务明细 CSV (GBK by default, ``#`` preamble and footer, tabs after ids)."""
    return write_lines(path, alipay_lines(rows, **kw), encoding)


def write_alipay_xlsx(path, rows, **kw) -> Path:
    """Alipay 账务明细 as XLSX with datetime and number cells."""
    kw.setdefault("typed", True)
    return write_xlsx_lines(path, alipay_lines(rows, **kw))


def write_alipay_zip(path, rows, *, account: str = "20881234567890120156", **kw) -> Path:
    """The platform's download: a ZIP with the 明细 CSV (GBK) and its 汇总 CSV."""
    totals: dict[str, list] = defaultdict(lambda: [0, ZERO, 0, ZERO])

    def tally(rows):
        for r in rows:
            cells = alipay_row(r) if isinstance(r, SampleTxn) else r
            t = totals[cells.get("业务类型", "")]
            inc, out = _amt(cells.get(_alipay.INCOME)), abs(_amt(cells.get(_alipay.EXPENSE)))
            if inc:
                t[0], t[1] = t[0] + 1, t[1] + inc
            if out:
                t[2], t[3] = t[2] + 1, t[3] + out
            yield r

    stem = f"{account}_20240301"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(f"{stem}_账务明细.csv", "w") as raw:
            text = io.TextIOWrapper(raw, encoding="gbk", newline="")
            _write_to(text, alipay_lines(tally(rows), account=account, **kw))
            text.flush()
            text.detach()
        zf.writestr(f"{stem}_账务明细(汇总).csv", _alipay_summary(totals, account).encode("gbk"))
    return Path(path)


def _alipay_summary(totals: Mapping[str, list], account: str) -> str:
    buf = io.StringIO()
    lines: list[Line] = [
        "#支付宝账务明细汇总查询",
        f"#账号：[{account}]",
        f"#{RULE}账务汇总列表{RULE}",
        ["业务类型", "收入笔数", "收入金额（+元）", "支出笔数", "支出金额（-元）", "备注"],
    ]
    grand = [0, ZERO, 0, ZERO]
    for kind, (a, b, c, d) in sorted(totals.items()):
        lines.append([kind, str(a), money(b), str(c), f"-{money(d)}" if d else "0.00", ""])
        grand = [grand[0] + a, grand[1] + b, grand[2] + c, grand[3] + d]
    lines.append(["合计", str(grand[0]), money(grand[1]), str(grand[2]), f"-{money(grand[3])}", ""])
    lines.append(f"#{RULE}账务汇总列表结束{RULE}")
    _write_to(buf, lines)
    return buf.getvalue()


# --- WeChat Pay ------------------------------------------------------------------------------

WECHAT_TRADE_HEADERS = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
).split(",")
WECHAT_FUND_HEADERS = (
    "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),"
    "资金变更提交申请人,备注,业务凭证号"
).split(",")


def wechat_fee(amount: Decimal) -> Decimal:
    """0.6 % rounded to the cent, as the samples charge."""
    return (abs(amount) * Decimal("0.006")).quantize(CENT, ROUND_HALF_UP)


def wechat_trade_row(t: SampleTxn) -> dict[str, str]:
    """Income -> a SUCCESS row; expense -> a REFUND row (fee returned as a negative fee)."""
    paid = t.amount > 0
    fee = wechat_fee(t.amount)
    return {
        "交易时间": _ts(t.time),
        "公众账号ID": "wx2421b1c4370ec43b",
        "商户号": "10000100",
        "特约商户号": "0",
        "设备号": "",
        "微信订单号": f"42000{t.flow_no}",
        "商户订单号": t.order_no,
        "用户标识": f"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o{t.seq % 10}",
        "交易类型": "JSAPI",
        "交易状态": "SUCCESS" if paid else "REFUND",
        "付款银行": "CMB_DEBIT",
        "货币种类": "CNY",
        "应结订单金额": money(t.amount) if paid else "0.00",
        "代金券金额": "0.00",
        "微信退款单号": "0" if paid else f"50300{t.flow_no}",
        "商户退款单号": "0" if paid else f"R{t.order_no}",
        "退款金额": "0.00" if paid else money(-t.amount),
        "充值券退款金额": "0.00",
        "退款类型": "" if paid else "ORIGINAL",
        "退款状态": "" if paid else "SUCCESS",
        "商品名称": f"商品{t.seq % 13}",
        "商户数据包": "",
        "手续费": money(fee if paid else -fee),
        "费率": "0.60%",
        "订单金额": money(abs(t.amount)),
        "申请退款金额": "0.00" if paid else money(-t.amount),
        "费率备注": "",
    }


def _bq(cells: list[str], backquote: bool) -> list[str]:
    return [f"`{c}" for c in cells] if backquote else cells


def wechat_trade_lines(rows: Iterable[SampleTxn | Row], *, backquote=True) -> Iterator[Line]:
    yield list(WECHAT_TRADE_HEADERS)
    n, settle, refund, fee = 0, ZERO, ZERO, ZERO
    for r in rows:
        cells = wechat_trade_row(r) if isinstance(r, SampleTxn) else dict(r)
        n += 1
        settle += _amt(cells.get("应结订单金额")) if cells.get("交易状态") == "SUCCESS" else ZERO
        refund += _amt(cells.get("退款金额"))
        fee += _amt(cells.get("手续费"))
        yield _bq([cells.get(h, "") for h in WECHAT_TRADE_HEADERS], backquote)
    yield [
        "总交易单数",
        "应结订单总金额",
        "退款总金额",
        "充值券退款总金额",
        "手续费总金额",
        "订单总金额",
        "申请退款总金额",
    ]
    totals = [
        str(n),
        money(settle),
        money(refund),
        "0.00",
        money(fee),
        money(settle),
        money(refund),
    ]
    yield _bq(totals, backquote)


def write_wechat_trade_csv(path, rows, *, encoding: str = "utf-8", backquote=True) -> Path:
    """WeChat 交易账单 (ALL): back-quoted cells, then the 总交易单数 summary."""
    return write_lines(path, wechat_trade_lines(rows, backquote=backquote), encoding)


def wechat_fund_row(t: SampleTxn) -> dict[str, str]:
    return {
        "记账时间": _ts(t.time),
        "微信支付业务单号": f"42000{t.flow_no}",
        "资金流水单号": f"F{t.flow_no}",
        "业务名称": "交易" if t.amount > 0 else "退款",
        "业务类型": "交易" if t.amount > 0 else "退款",
        "收支类型": "收入" if t.amount > 0 else "支出",
        "收支金额(元)": money(abs(t.amount)),
        "账户结余(元)": money(t.balance),
        "资金变更提交申请人": "system",
        "备注": t.remark,
        "业务凭证号": f"V{t.seq}",
    }


def wechat_fund_lines(rows: Iterable[SampleTxn | Row], *, backquote=True) -> Iterator[Line]:
    yield list(WECHAT_FUND_HEADERS)
    n = n_in = n_out = 0
    t_in = t_out = ZERO
    for r in rows:
        cells = wechat_fund_row(r) if isinstance(r, SampleTxn) else dict(r)
        value = abs(_amt(cells.get("收支金额(元)")))
        n += 1
        if cells.get("收支类型") == "收入":
            n_in, t_in = n_in + 1, t_in + value
        else:
            n_out, t_out = n_out + 1, t_out + value
        yield _bq([cells.get(h, "") for h in WECHAT_FUND_HEADERS], backquote)
    yield ["资金流水总笔数", "收入笔数", "收入金额", "支出笔数", "支出金额"]
    yield _bq([str(n), str(n_in), money(t_in), str(n_out), money(t_out)], backquote)


def write_wechat_fund_csv(path, rows, *, encoding: str = "utf-8", backquote=True) -> Path:
    """WeChat 资金账单: back-quoted cells, then the 资金流水总笔数 summary."""
    return write_lines(path, wechat_fund_lines(rows, backquote=backquote), encoding)


# --- WeChat shop, JD wallet, JD 精准通 ---------------------------------------------------------

WECHAT_SHOP_HEADERS = (
    "流水单号,记账时间,动帐类型,收支类型,收支金额,账户余额,关联订单号,关联售后单号,关联提现单号,关联保单号,详情"
).split(",")
JD_WALLET_HEADERS = (
    "商户号,账户代码,账户名称,日期,商户订单号,账户余额(元),收入金额(元),支出金额(元),交易备注,账单日期"
).split(",")
JZT_HEADERS = "流水单号,账号,投放日期,交易类型,计划ID,支出".split(",")


def wechat_shop_row(t: SampleTxn) -> dict[str, str]:
    return {
        "流水单号": f"S{t.flow_no}",
        "记账时间": _ts(t.time),
        "动帐类型": "订单收入" if t.amount > 0 else "售后退款",
        "收支类型": "收入" if t.amount > 0 else "支出",
        "收支金额": money(abs(t.amount)),
        "账户余额": money(t.balance),
        "关联订单号": t.order_no,
        "关联售后单号": "" if t.amount > 0 else f"AS{t.seq}",
        "关联提现单号": "",
        "关联保单号": "",
        "详情": t.remark,
    }


def jd_wallet_row(t: SampleTxn) -> dict[str, str]:
    return {
        "商户号": "110123456001",
        "账户代码": "ACC10001",
        "账户名称": "京东钱包-结算账户",
        "日期": _ts(t.time),
        "商户订单号": t.order_no,
        "账户余额(元)": money(t.balance),
        "收入金额(元)": money(t.amount) if t.amount > 0 else "0.00",
        "支出金额(元)": money(-t.amount) if t.amount < 0 else "0.00",
        "交易备注": t.remark,
        "账单日期": t.time.strftime("%Y-%m-%d"),
    }


def jzt_row(t: SampleTxn) -> dict[str, str]:
    return {
        "流水单号": f"J{t.flow_no}",
        "账号": "jzt_ads_01",
        "投放日期": t.time.strftime("%Y-%m-%d"),
        "交易类型": "广告扣费",
        "计划ID": str(880000 + t.seq % 7),
        "支出": money(abs(t.amount)),
    }


def table_lines(
    headers: list[str], rows: Iterable[SampleTxn | Row], convert, *, typed: bool = False
) -> Iterator[Line]:
    """A bare table: header then rows (converted from SampleTxn by ``convert``)."""
    yield list(headers)
    for r in rows:
        cells = convert(r) if isinstance(r, SampleTxn) else dict(r)
        values = [cells.get(h, "") for h in headers]
        if typed and isinstance(r, SampleTxn):
            values = [_typed_jd(h, v) for h, v in zip(headers, values, strict=True)]
        yield values


def _typed_jd(header: str, value: str):
    if header == "日期":
        return parse_time(value).replace(tzinfo=None)
    if header.endswith("(元)"):
        return Decimal(value)
    return value


def write_wechat_shop_csv(path, rows, *, encoding: str = "utf-8") -> Path:
    return write_lines(path, table_lines(WECHAT_SHOP_HEADERS, rows, wechat_shop_row), encoding)


def write_jd_wallet_csv(path, rows, *, encoding: str = "gbk") -> Path:
    return write_lines(path, table_lines(JD_WALLET_HEADERS, rows, jd_wallet_row), encoding)


def write_jd_wallet_xlsx(path, rows) -> Path:
    """JD wallet flow as XLSX with datetime and numeric cells."""
    return write_xlsx_lines(path, table_lines(JD_WALLET_HEADERS, rows, jd_wallet_row, typed=True))


def write_jzt_csv(path, rows, *, encoding: str = "utf-8") -> Path:
    return write_lines(path, table_lines(JZT_HEADERS, rows, jzt_row), encoding)


# --- the demo month (the README walkthrough) ------------------------------------------------

MONTH_START = datetime(2024, 3, 1, 0, 0, 0)
MONTH = timedelta(days=31)


def month_of_txns(rows: int, *, seed: int, start_balance: Decimal) -> list[SampleTxn]:
    """``rows`` chained transactions spread evenly over March 2024."""
    txns = list(chained_txns(rows, start=MONTH_START, seed=seed, start_balance=start_balance))
    span = (txns[-1].time - MONTH_START) if txns else MONTH
    scale = (MONTH - timedelta(minutes=1)) / span
    return [replace(t, time=MONTH_START + (t.time - MONTH_START) * scale) for t in txns]


def removed_index(rows: int) -> int:
    """Which row (0-based) the tampered copy leaves out: one in the middle of the month."""
    return rows // 2


def write_demo_files(directory: str | Path, *, rows: int = 3000) -> dict[str, Path]:
    """Write the sample files into ``directory``; returns name → path."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    alipay = month_of_txns(rows, seed=11, start_balance=Decimal("25000.00"))
    jd = month_of_txns(rows, seed=23, start_balance=Decimal("8000.00"))
    tampered = jd[: removed_index(rows)] + jd[removed_index(rows) + 1 :]
    return {
        "alipay": write_alipay_zip(out / "alipay_2024-03.zip", alipay),
        "jd_wallet": write_jd_wallet_csv(out / "jd_wallet_2024-03.csv", jd),
        "tampered": write_jd_wallet_csv(out / "jd_wallet_2024-03_tampered.csv", tampered),
    }
