"""The templates the writer tests use, and the shipped stand-ins, built from the research note
(vouchers.md B.1). The tests check the files still hold what these builders make;
``ZHANGBEN_REGEN_GOLDEN=1`` (or ``python -m tests.vouchers.writers.templates``) rewrites them."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "zhangben" / "vouchers" / "templates"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

K3_HEAD = [
    ("FBillHead(GL_VOUCHER)", "*单据头(序号)"),
    ("FAccountBookID", "*(单据头)账簿#编码"),
    ("FAccountBookID#Name", "(单据头)账簿#名称"),
    ("FDate", "*(单据头)日期"),
    ("FBUSDATE", "(单据头)业务日期"),
    ("FYEAR", "(单据头)会计年度"),
    ("FPERIOD", "(单据头)期间"),
    ("FVOUCHERGROUPID", "*(单据头)凭证字#编码"),
    ("FVOUCHERGROUPID#Name", "(单据头)凭证字#名称"),
    ("FVOUCHERGROUPNO", "*(单据头)凭证号"),
    ("FATTACHMENTS", "(单据头)附件数"),
    ("FISADJUSTVOUCHER", "(单据头)调整期凭证"),
    ("FACCBOOKORGID", "*(单据头)核算组织#编码"),
    ("FACCBOOKORGID#Name", "(单据头)核算组织#名称"),
    ("FSourceBillKey", "(单据头)来源单据#编码"),
    ("FSourceBillKey#Name", "(单据头)来源单据#名称"),
    ("FIMPORTVERSION", "(单据头)导入版本"),
]
K3_ENTRY_START = [
    ("FEntity", "*分录(序号)"),
    ("FEXPLANATION", "(分录)摘要"),
    ("FACCOUNTID", "*(分录)科目编码#编码"),
    ("FACCOUNTID#Name", "(分录)科目编码#名称"),
]
K3_ENTRY_END = [
    ("FCURRENCYID", "*(分录)币别#编码"),
    ("FEXCHANGERATETYPE", "*(分录)汇率类型#编码"),
    ("FEXCHANGERATE", "(分录)汇率"),
    ("FUnitId", "(分录)单位#编码"),
    ("FPrice", "(分录)单价"),
    ("FQty", "(分录)数量"),
    ("FAMOUNTFOR", "(分录)原币金额"),
    ("FDEBIT", "(分录)借方金额"),
    ("FCREDIT", "(分录)贷方金额"),
    ("FSettleTypeID", "(分录)结算方式#编码"),
    ("FSETTLENO", "(分录)结算号"),
    ("FBUSNO", "(分录)业务编号"),
    ("FEXPORTENTRYID", "(分录)引出分录ID"),
]
#: the standard K/3 Cloud flex dimensions (the stand-in's guess; a tenant's own differ)
K3_DEFAULT_DIMS = [("FFLEX4", "供应商"), ("FFLEX5", "部门"), ("FFLEX6", "客户"), ("FFLEX7", "员工")]
#: a customer's own: other codes, another order, a dimension the writer does not know
K3_CUSTOMER_DIMS = [("FF100002", "客户"), ("FFLEX9", "费用项目"), ("FF100003", "部门")]


def k3cloud_template(dims, *, sheet="凭证#单据头(FBillHead)", drop=()) -> bytes:
    entry = list(K3_ENTRY_START)
    for code, name in dims:
        entry += [
            (f"FDetailID#{code}", f"(分录)核算维度.{name}#编码"),
            (f"FDetailID#{code}#Name", f"(分录)核算维度.{name}#名称"),
        ]
    columns = [*K3_HEAD, ("*Split*1", "*Split*1"), *entry, *K3_ENTRY_END]
    columns = [c for c in columns if c[0] not in drop]
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([k for k, _ in columns])
    ws.append([label for _, label in columns])
    wb.create_sheet("说明").append(["由 zhangben 按公开资料生成的示例模板"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


#: the KIS / K3 WISE 标准凭证引入 fields (PowerLms KingdeeVoucher.cs), widths of the stand-in
DBF_FIELDS = [
    "FDATE D", "FTRANSDATE D", "FPERIOD N(2,0)", "FGROUP C(4)", "FNUM N(6,0)",
    "FENTRYID N(4,0)", "FEXP C(100)", "FACCTID C(40)",
    *(f"FCLSNAME{n} C(20); FOBJID{n} C(40); FOBJNAME{n} C(80)" for n in range(1, 16)),
    "FTRANSID C(40)", "FCYID C(3)", "FEXCHRATE N(18,7)", "{fdc}", "FFCYAMT N(19,2)",
    "FQTY N(19,4)", "FPRICE N(19,4)", "FDEBIT N(19,2)", "FCREDIT N(19,2)", "FSETTLCODE C(20)",
    "FSETTLENO C(40)", "FPREPARE C(20)", "FPAY C(20)", "FCASH C(20)", "FPOSTER C(20)",
    "FCHECKER C(20)", "FATTCHMENT N(5,0)", "FPOSTED L", "FMODULE C(4)", "FDELETED L",
    "FSERIALNO N(10,0)", "FUNITNAME C(40)", "FREFERENCE C(40)", "FCASHFLOW C(40)",
    "FHANDLER C(20)",
]  # fmt: skip


def dbf_template(fdc: str = "FDC C(1)", records=(), drop=(), swap=None) -> bytes:
    """A DBF made by the ``dbf`` package (not by our writer), in GBK, with ``records``;
    ``drop`` leaves fields out, ``swap`` replaces field specs (``{"FDEBIT N(19,2)": …}``)."""
    import tempfile

    import dbf

    fields = [fdc if f == "{fdc}" else (swap or {}).get(f, f) for f in DBF_FIELDS]
    specs = "; ".join(f for f in fields if f.split()[0] not in drop)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "voucher.dbf"
        table = dbf.Table(str(path), specs, codepage="cp936", dbf_type="db3")
        with table.open(dbf.READ_WRITE):
            for record in records:
                table.append(record)
        data = bytearray(path.read_bytes())
    data[1:4] = bytes((126, 10, 1))  # a fixed date of last update: the same bytes every build
    return bytes(data)


#: a K3 WISE whose FDC is numeric and, by its own exported record, 1 for a debit
DBF_CUSTOMER_RECORD = {"FGROUP": "记", "FNUM": 1, "FEXP": "期初", "FACCTID": "1002",
                       "FDC": 1, "FDEBIT": 1, "FCLSNAME1": "客户"}  # fmt: skip


GENERIC_HEADERS = ["日期", "凭证字", "凭证号", "附单据数", "分录序号", "摘要", "科目编码",
                   "科目名称", "借方金额", "贷方金额", "币别", "汇率", "原币金额", "客户", "供应商",
                   "部门", "职员", "项目", "制单人"]  # fmt: skip
#: a 柠檬云-like upload: a notes sheet first, a title row, marked and annotated headers, no
#: 凭证字 column, an unknown 备注 column
GENERIC_CUSTOMER = [["记账凭证导入模板（请勿修改表头）"],
                    ["*日期", "凭证号", "*摘要", "*科目编码", "科目名称", "借方金额(元)",
                     "贷方金额（元）", "附件数", "客户", "部门", "备注", "制单人"]]  # fmt: skip


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def build() -> dict[Path, bytes]:
    return {
        TEMPLATES / "k3cloud_voucher.xlsx": k3cloud_template(K3_DEFAULT_DIMS),
        FIXTURES / "k3cloud_customer.xlsx": k3cloud_template(K3_CUSTOMER_DIMS),
        TEMPLATES / "kingdee_voucher.dbf": dbf_template(),
        FIXTURES / "k3wise_customer.dbf": dbf_template("FDC N(1,0)", [DBF_CUSTOMER_RECORD]),
        TEMPLATES / "generic_voucher.xlsx": xlsx({"凭证": [GENERIC_HEADERS]}),
        FIXTURES / "generic_customer.xlsx": xlsx(
            {"说明": [["日期格式 yyyy-mm-dd"]], "凭证导入": GENERIC_CUSTOMER}
        ),
    }


def _same(path: Path, data: bytes) -> bool:
    """An xlsx holds its save time: unchanged cells keep the file as it is."""
    from tests.vouchers.writers.golden import xlsx_cells

    if not path.exists():
        return False
    old = path.read_bytes()
    return old == data or (path.suffix == ".xlsx" and xlsx_cells(old) == xlsx_cells(data))


def write(path: Path, data: bytes) -> bool:
    if _same(path, data):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def check_built(name: str) -> None:
    """The file ``name`` (a template or fixture) holds what its builder makes."""
    import os

    from tests.vouchers.writers.golden import xlsx_cells

    path, data = next((p, d) for p, d in build().items() if p.name == name)
    if os.environ.get("ZHANGBEN_REGEN_GOLDEN") == "1":
        write(path, data)
    if path.suffix == ".xlsx":
        assert xlsx_cells(path.read_bytes()) == xlsx_cells(data), name
    else:
        assert path.read_bytes() == data, name


if __name__ == "__main__":
    for path, data in build().items():
        if write(path, data):
            print(path.relative_to(ROOT))
