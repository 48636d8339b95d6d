"""The finance console: server-rendered pages for finance staff under ``/console``."""
