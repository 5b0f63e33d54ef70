"""Metering of finished jobs, invoices, compute vouchers (算力券), the double-entry ledger and quotas."""
