"""FastAPI routers under /api/v1 (thin: validate, authorise, call a service, return a public schema)."""
