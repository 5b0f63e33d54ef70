"""Settings of the transfer service (environment variables ``HUANGHE_TRANSFERS_*``).

Prices, energy and shares below are **illustrative defaults**, to be replaced by a province's real tariffs:

* ``price_fen_per_gb_*``: egress price per GB (10^9 bytes) moved, by link kind: ``in_center`` (between two
  tiers of one center: 0), ``in_city`` (another center of the same city), ``in_circle`` (same economic
  circle), ``cross_circle``. Order of magnitude: public-cloud cross-region replication is listed at about
  0.5 CNY (50 fen) per GB; metropolitan and circle links of a provincial network are assumed cheaper.
* ``energy_wh_per_gb``: network energy per GB moved. Aslan, Mayers, Koomey & France, "Electricity Intensity
  of Internet Data Transmission", J. Industrial Ecology 22(4):785-798 (2018) estimate 0.06 kWh/GB for 2015,
  halving about every two years; extrapolated to 2025 that is about 2 Wh/GB (our default). Carbon is this
  energy times the grid factor of the source center (``grid_emission_kg_per_kwh``): Wh × kg/kWh = grams.
* ``link_share``: the share of a link's bandwidth the platform's transfers may use together (token bucket per
  (source center, destination center) pair, bytes/s = ``bandwidth_gbps`` × 10^9 / 8 × share).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TransferSettings(BaseSettings):
    """Transfer service settings (env prefix ``HUANGHE_TRANSFERS_``).

    ``enabled``: run the loop in the server; ``interval_s``: pause between steps when idle, s;
    ``workers``: copies at once in one process (threads); ``per_endpoint``: active transfers at once per
    destination endpoint (all processes) and per source endpoint (this process); ``lease_s``: how long a
    leased transfer stays ours without renewal (renewed while copying), s; ``retry_delay_s``: wait before
    retrying from the same source (none when another source is left), s; ``max_attempts``: default attempts
    of a new transfer; ``link_share``: share of a link's bandwidth for transfers (0..1];
    ``unlinked_gbps``: bandwidth assumed between two centers without a link, Gbps; ``in_center_gbps``:
    between two endpoints of one center, Gbps; ``burst_s``: seconds of rate a token bucket may hold;
    ``price_fen_per_gb_*``, ``energy_wh_per_gb``: see the module docstring; ``network_refresh_s``: how often
    the links are re-read, s."""

    model_config = SettingsConfigDict(env_prefix="HUANGHE_TRANSFERS_", extra="ignore")

    enabled: bool = True
    interval_s: float = Field(default=0.5, gt=0, le=60)
    workers: int = Field(default=4, ge=1, le=64)
    per_endpoint: int = Field(default=4, ge=1, le=1000)
    lease_s: float = Field(default=30.0, gt=0)
    retry_delay_s: float = Field(default=5.0, ge=0)
    max_attempts: int = Field(default=3, ge=1, le=100)
    link_share: float = Field(default=0.5, gt=0, le=1)
    unlinked_gbps: float = Field(default=10.0, gt=0)
    in_center_gbps: float = Field(default=100.0, gt=0)
    burst_s: float = Field(default=0.1, ge=0)
    price_fen_per_gb_in_center: float = Field(default=0.0, ge=0)
    price_fen_per_gb_in_city: float = Field(default=10.0, ge=0)
    price_fen_per_gb_in_circle: float = Field(default=30.0, ge=0)
    price_fen_per_gb_cross_circle: float = Field(default=50.0, ge=0)
    energy_wh_per_gb: float = Field(default=2.0, ge=0)
    network_refresh_s: float = Field(default=10.0, gt=0)

    def price_fen_per_gb(self, kind: str) -> float:
        """Egress price of a link kind (``in_center``, ``in_city``, ``in_circle``, ``cross_circle``), fen/GB."""
        return float(getattr(self, f"price_fen_per_gb_{kind}"))
