"""Order-level reconciliation (核销): expected money per order matched against bill rows,
with exception queues, undo and an audit trail (reconciliation.md)."""
