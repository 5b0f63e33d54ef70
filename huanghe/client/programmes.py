"""Voucher programmes (算力券项目) through the API: the client calls of :class:`~huanghe.client.HuangheClient`
for programmes, applications and their review, and the report. Answers are the server's pydantic schemas
(:mod:`huanghe.billing.programme_schemas`, imported on first use); money is CNY as decimal strings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from huanghe.client.base import BaseClient

if TYPE_CHECKING:
    from huanghe.billing.programme_report import ProgrammeReport
    from huanghe.billing.programme_schemas import ApplicationPublic, PresetPublic, ProgrammePublic

#: Page size when reading a whole list (the server's largest ``?limit=``).
PAGE = 1000


class ProgrammeCalls(BaseClient):
    """Voucher-programme calls (regulator and admin: programmes and reviews; tenant admin: applications)."""

    def _all(self, path: str, params: Mapping[str, Any]) -> list[Any]:
        items: list[Any] = []
        while True:
            page = self.call("GET", path, params={**params, "limit": PAGE, "offset": len(items)})
            items.extend(page["items"])
            if not page["items"] or len(items) >= page["total"]:
                return items

    def programme_presets(self) -> list[PresetPublic]:
        """The reported programmes (Shandong 2025, Shanghai 2025-07, Beijing 2023–2025) with sources."""
        from huanghe.billing.programme_schemas import PresetPublic

        return [PresetPublic.model_validate(x) for x in self.call("GET", "/programme-presets")]

    def programmes(self, status: str | None = None) -> list[ProgrammePublic]:
        """Every programme (``status``: ``open`` or ``closed``)."""
        from huanghe.billing.programme_schemas import ProgrammePublic

        return [ProgrammePublic.model_validate(x) for x in self._all("/programmes", {"status": status})]

    def create_programme(self, body: Mapping[str, Any]) -> ProgrammePublic:
        """Create a programme, e.g. ``{"id": "sd-2025", "preset": "shandong-2025"}`` (regulator, admin)."""
        from huanghe.billing.programme_schemas import ProgrammePublic

        return ProgrammePublic.model_validate(self.call("POST", "/programmes", json=dict(body)))

    def apply_programme(self, body: Mapping[str, Any]) -> ApplicationPublic:
        """Apply for one's own tenant: ``{"programme", "tenant", "basis_cny", "provider", ...}``."""
        from huanghe.billing.programme_schemas import ApplicationPublic

        return ApplicationPublic.model_validate(self.call("POST", "/programme-applications", json=dict(body)))

    def programme_applications(
        self, programme: str | None = None, status: str | None = None
    ) -> list[ApplicationPublic]:
        """Applications the caller may see (a tenant: its own only)."""
        from huanghe.billing.programme_schemas import ApplicationPublic

        items = self._all("/programme-applications", {"programme": programme, "status": status})
        return [ApplicationPublic.model_validate(x) for x in items]

    def review_application(
        self, application_id: str, decision: str, amount_cny: str | None = None, note: str = ""
    ) -> ApplicationPublic:
        """``approve`` (grant a voucher from the fund, at most ``amount_cny``) or ``reject``."""
        from huanghe.billing.programme_schemas import ApplicationPublic

        body = {"decision": decision, "amount_cny": amount_cny, "note": note}
        data = self.call("POST", f"/programme-applications/{application_id}/review", json=body)
        return ApplicationPublic.model_validate(data)

    def withdraw_application(self, application_id: str) -> ApplicationPublic:
        from huanghe.billing.programme_schemas import ApplicationPublic

        data = self.call("POST", f"/programme-applications/{application_id}/withdraw")
        return ApplicationPublic.model_validate(data)

    def programme_report(self, programme_id: str, year: int | None = None) -> ProgrammeReport:
        """The fund's use and effect, by city and industry (regulator, admin)."""
        from huanghe.billing.programme_report import ProgrammeReport

        data = self.call("GET", f"/programmes/{programme_id}/report", params={"year": year})
        return ProgrammeReport.model_validate(data)
