"""Spreadsheets and CSV files a finance team can hand on: the column layouts (``layout``),
a streaming XLSX writer (``xlsx``) and the exports of the flow (``flows``).

Between the surfaces and the core: a surface turns its wire format into an
:class:`~zhangben.core.queries.EntryFilter` and a :class:`~zhangben.exports.flows.Format`,
and sends the bytes on; nothing here knows of HTTP or the terminal."""
