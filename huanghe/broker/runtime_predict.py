"""Online run-time prediction from finished jobs only (Tsafrir, Etsion & Feitelson 2007).

D. Tsafrir, Y. Etsion, D. G. Feitelson, "Backfilling using system-generated predictions rather than user
runtime estimates", IEEE TPDS 18(6), 2007: predict a job's run time as the mean actual run time of the
same user's last two *finished* jobs, capped by the job's requested time; without history, the request.

The predictor is fed by the queue engine when a job ends (:meth:`UserRuntimePredictor.observe`), so at
any decision time it knows only jobs that have finished before that time: no look-ahead. Times are in
seconds. A negative owner id means "unknown user" and never gets a history.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class UserRuntimePredictor:
    """Per-user mean of the last ``history`` actual run times (s) of finished jobs.

    ``mean_s[user]`` is kept up to date on every :meth:`observe`, so a prediction is one dict lookup.
    """

    history: int = 2
    mean_s: dict[int, float] = field(default_factory=dict)
    _last: dict[int, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.history < 1:
            raise ValueError(f"history must be >= 1 job, got {self.history}")

    def observe(self, user: int, run_s: float) -> None:
        """A job of ``user`` finished after running ``run_s`` seconds."""
        if user < 0:
            return
        last = self._last.setdefault(user, [])
        last.append(max(float(run_s), 0.0))
        if len(last) > self.history:
            del last[0]
        self.mean_s[user] = sum(last) / len(last)

    def predict(self, user: int, request_s: float) -> float:
        """Predicted run time (s): min(request, mean of the user's last finished runs), else the request."""
        mean = self.mean_s.get(user)
        if mean is None or mean > request_s:
            return request_s
        return mean
