"""zhangben (账本): money accounts and their flows for e-commerce finance teams."""

__version__ = "0.1.0"
