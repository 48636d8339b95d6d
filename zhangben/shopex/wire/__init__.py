"""Pure wire-level pieces of the ShopEx OMS open API: no database, no HTTP server.

``signature`` (the original's sign), ``forms`` (PHP ``$_POST`` parsing), ``times``
(timestamps and query times), ``codes`` (error codes and envelopes), ``numbers`` (money on
the wire).
"""
