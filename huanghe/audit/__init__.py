"""The audit trail (溯源): an append-only hash chain of every mutation, verifiable and exportable."""
