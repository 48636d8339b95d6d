"""The built-in bill formats, one module each; :data:`BUILTIN` lists them in detection order.

A format module declares a :class:`~zhangben.imports.formats.bill_format.BillFormat` subclass
and nothing else; it is registered by being listed here (the registry is
:mod:`zhangben.imports.extract`, which starts from this list).
"""

from zhangben.imports.formats.alipay import AlipayStatement
from zhangben.imports.formats.jd_wallet import JdWalletFlow
from zhangben.imports.formats.jzt import JztBill
from zhangben.imports.formats.wechat import WechatFundBill, WechatTradeBill
from zhangben.imports.formats.wechat_shop import WechatShopFunds

#: One instance of each built-in format, in the order they were always registered in.
BUILTIN = (
    AlipayStatement(),
    WechatTradeBill(),
    WechatFundBill(),
    WechatShopFunds(),
    JdWalletFlow(),
    JztBill(),
)
