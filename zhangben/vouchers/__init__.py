"""Accounting vouchers (记账凭证): the month's flows as vouchers for 金蝶 and 用友 (vouchers.md).

``model`` holds the plain records every part shares; ``writers/`` turns them into each product's
import file (pure: vouchers in, bytes out)."""
