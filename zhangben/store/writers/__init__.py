"""The only code that writes ledger rows (postings, entries, account balances)."""
