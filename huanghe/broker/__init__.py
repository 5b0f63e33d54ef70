"""Where to run: snapshot, filters, estimates, policies, queue order, backfill, explanations.

Pure: never imports a back-end, the database or FastAPI; time comes from an injected clock.
"""
