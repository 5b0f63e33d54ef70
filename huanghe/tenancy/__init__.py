"""Tenants, users and API tokens: who may use the platform, and as what role."""
