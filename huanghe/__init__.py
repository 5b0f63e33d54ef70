"""Huanghe (黄河): the platform of a province-wide compute network.

Layers (imports point downward only)::

    cli/ web/ api/          faces
    services/               use cases, own transactions
    store/                  SQLAlchemy models, sessions, Alembic migrations
    backends/               how to run (local, slurm, ray, kubernetes, fake)
    observatory/            index, PUE/CUE/REF, carbon efficiency, maturity, targets, reports
    sim/                    discrete-event simulator, trace loaders, metrics
    scheduler/              where to run: snapshot, filters, estimates, policies, queue order, backfill
    catalog/                topology files, bundled reference network, geo/latency model, units
    domain/                 pure value types and enums; no I/O
"""

__version__ = "0.1.0"
