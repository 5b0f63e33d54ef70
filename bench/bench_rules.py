"""Replication-rule evaluation at the issue's scale: 100,000 files and 10,000 rules over 200 endpoints.

A synthetic province (16 cities in 3 economic circles, hot/warm/cold tiers, 3 operators, security levels
1-4) with 200 endpoints; 10,000 datasets of 1-19 files (100,000 in all, log-normal sizes), each with one
available replica at its origin endpoint (a fifth of the files with a second); one rule per dataset with
1-3 copies, 70 % ``all`` / 30 % ``none`` grouping, an expression drawn from 40 (parsed and selected once
each, inside the timing), a weight attribute on 30 %, a residency mask on 20 % and quotas for 50 tenants.

Timed: parse + select of the distinct expressions, building the rules, :func:`solve` (first evaluation,
every rule placed from scratch) and a second solve with the first one's locks (re-evaluation; must queue
nothing). Baseline, measured in the same command: a straightforward per-file pure-Python solver with the
same rules (dicts and sorted lists, one endpoint at a time) on the first ``--baseline-rules`` rules,
scaled linearly to all rules. ``--tight`` gives the endpoints 1-40 TB free and the tenants tight quotas,
so that many rules are stuck and the exact sequential path and the reasons are exercised. Usage::

    .venv/bin/python bench/bench_rules.py --seed 1 --baseline-rules 1000 [--tight]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from huanghe.data.expression import EndpointTable, parse
from huanghe.data.rule_inputs import UNLIMITED, Endpoints, Files, Quota, Replicas, Rule
from huanghe.data.rule_solver import solve

CITIES = {
    "jinan": ["jinan", "zibo", "taian", "liaocheng", "dezhou", "binzhou"],
    "jiaodong": ["qingdao", "yantai", "weihai", "weifang", "rizhao"],
    "lunan": ["linyi", "jining", "zaozhuang", "heze", "dongying"],
}
TIERS = ["hot", "warm", "cold"]
OPERATORS = ["telecom", "unicom", "mobile"]


def network(rng: np.random.Generator, n: int, tight: bool) -> list[dict[str, object]]:
    cities = [(c, circle) for circle, cs in CITIES.items() for c in cs]
    out = []
    for i in range(n):
        city, circle = cities[i % len(cities)]
        out.append(
            {
                "id": f"{city}-{i:03d}",
                "center": f"{city}-c{i % 4}",
                "city": city,
                "circle": circle,
                "tier": TIERS[i % 3],
                "medium": ["nvme", "hdd", "tape"][i % 3],
                "operator": OPERATORS[(i // 3) % 3],
                "security_level": int(rng.integers(1, 5)),
                "free_bytes": float(
                    rng.integers(1, 40) * 10**12 if tight else rng.integers(200, 2000) * 10**12
                ),
                "w": float(rng.integers(0, 5)),
            }
        )
    return out


def expressions() -> list[str]:
    out = ["*", "tier=cold", "tier=hot", "security_level>=3", "*\\tier=hot", "tier=warm|tier=cold"]
    for circle in CITIES:
        out += [
            f"circle={circle}&tier=cold",
            f"circle={circle}",
            f"*\\circle={circle}",
            f"circle={circle}&security_level>=2",
        ]
    for a, b in [("qingdao", "yantai"), ("jinan", "zibo"), ("linyi", "jining"), ("weihai", "rizhao")]:
        out += [f"city={a}|city={b}", f"(city={a}|city={b})&tier!=hot"]
    out += [
        "operator=telecom&tier=cold",
        "operator!=mobile",
        "(circle=jinan|circle=lunan)\\tier=hot",
        "free_bytes>1e15",
    ]
    out += ["tier=cold&security_level>=2", "circle=jiaodong&operator=unicom", "*\\(circle=jinan&tier=hot)"]
    return out[:40]


def workload(seed: int, n_ep: int, n_rules: int, tight: bool = False) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    records = network(rng, n_ep, tight)
    n_files_per = rng.integers(1, 20, n_rules)
    n_files = int(n_files_per.sum())
    sizes = np.minimum(rng.lognormal(18, 2.5, n_files), 5e10).astype(np.int64) + 1
    ptr = np.concatenate([[0], np.cumsum(n_files_per)])
    origin = rng.integers(0, n_ep, n_rules)
    rep_f = np.arange(n_files)
    rep_e = np.repeat(origin, n_files_per)
    second = rng.random(n_files) < 0.2
    rep_f = np.concatenate([rep_f, rep_f[second]])
    rep_e = np.concatenate([rep_e, (rep_e[second] + 1 + rng.integers(0, n_ep - 1, int(second.sum()))) % n_ep])
    exprs = expressions()
    return {
        "records": records,
        "sizes": sizes,
        "ptr": ptr,
        "rep_f": rep_f,
        "rep_e": rep_e,
        "expr": [exprs[i] for i in rng.integers(0, len(exprs), n_rules)],
        "copies": rng.integers(1, 4, n_rules),
        "grouping": np.where(rng.random(n_rules) < 0.7, "all", "none"),
        "weighted": rng.random(n_rules) < 0.3,
        "resident": rng.random(n_rules) < 0.2,
        "tenant": [f"t{i}" for i in rng.integers(0, 50, n_rules)],
        "quota_ep": {
            f"t{t}": {str(records[e]["id"]): 10**12 if tight else 10**13 for e in rng.integers(0, n_ep, 20)}
            for t in range(50)
        },
    }


def build_rules(
    w: dict[str, Any], table: EndpointTable, file_ids: np.ndarray, custom: frozenset[str]
) -> list[Rule]:
    masks = {text: parse(text, custom).select(table) for text in set(w["expr"])}
    resident = parse("security_level>=3").select(table)
    rules = []
    for i, text in enumerate(w["expr"]):
        rules.append(
            Rule(
                id=f"rule-{i}",
                file_ids=file_ids[w["ptr"][i] : w["ptr"][i + 1]],
                copies=int(w["copies"][i]),
                selection=masks[text],
                expression=text,
                grouping=str(w["grouping"][i]),
                weight="w" if w["weighted"][i] else None,
                tenant=w["tenant"][i],
                allowed=resident if w["resident"][i] else None,
            )
        )
    return rules


def baseline(
    rules: Sequence[Rule],
    table: EndpointTable,
    sizes: list[int],
    reps: dict[int, set[int]],
    free: list[int],
    available: list[bool],
    quotas: dict[str, Quota],
    seed: int,
) -> int:
    """Per-file pure Python: returns the number of transfers queued (same rules as the solver)."""
    ids = [str(x) for x in table.ids]
    weight_col = [float(x) for x in table.columns["w"]]
    q_ep: dict[str, list[int]] = {}
    q_tot: dict[str, int] = {}
    n_transfers = 0
    for rule in rules:
        if rule.tenant not in q_ep:
            q = quotas.get(rule.tenant, Quota())
            q_ep[rule.tenant] = [int(q.per_endpoint.get(e, UNLIMITED)) for e in ids]
            q_tot[rule.tenant] = UNLIMITED if q.total_bytes is None else q.total_bytes
        qe = q_ep[rule.tenant]
        rnd = random.Random(f"{seed}:{rule.id}")
        cand = []
        for e in range(len(ids)):
            wgt = weight_col[e] if rule.weight else 1.0
            if rule.selection[e] and (rule.allowed is None or rule.allowed[e]) and available[e] and wgt > 0:
                cand.append((e, wgt))
        files = [int(f) for f in rule.file_ids]
        if rule.grouping == "all":
            total = sum(sizes[f] for f in files)
            scored = []
            for e, wgt in cand:
                move = sum(sizes[f] for f in files if e not in reps[f])
                scored.append((move, 1 - rnd.random() ** (1 / wgt), e))
            scored.sort()
            got = 0
            for move, _, e in scored:
                if got == rule.copies:
                    break
                if move <= free[e] and total <= qe[e] and total <= q_tot[rule.tenant]:
                    got += 1
                    free[e] -= move
                    qe[e] -= total
                    q_tot[rule.tenant] -= total
                    for f in files:
                        if e not in reps[f]:
                            reps[f].add(e)
                            n_transfers += 1
        else:
            for f in files:
                scored = sorted((e not in reps[f], 1 - rnd.random() ** (1 / wgt), e) for e, wgt in cand)
                got = 0
                for missing, _, e in scored:
                    if got == rule.copies:
                        break
                    s = sizes[f]
                    if (not missing or s <= free[e]) and s <= qe[e] and s <= q_tot[rule.tenant]:
                        got += 1
                        qe[e] -= s
                        q_tot[rule.tenant] -= s
                        if missing:
                            free[e] -= s
                            reps[f].add(e)
                            n_transfers += 1
    return n_transfers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--endpoints", type=int, default=200)
    ap.add_argument("--rules", type=int, default=10_000)
    ap.add_argument("--baseline-rules", type=int, default=1000)
    ap.add_argument(
        "--tight", action="store_true", help="1-40 TB free per endpoint, tight quotas: many rules stuck"
    )
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    w = workload(args.seed, args.endpoints, args.rules, args.tight)
    table = EndpointTable.from_records(w["records"])
    file_ids = np.arange(1, len(w["sizes"]) + 1, dtype=np.int64)
    files = Files(file_ids, w["sizes"])
    ep = Endpoints(table, np.ones(len(table), dtype=bool))
    ep_ids = np.asarray(table.ids).astype(str)
    replicas = Replicas(file_ids[w["rep_f"]], ep_ids[w["rep_e"]], np.full(len(w["rep_f"]), "available"))
    quotas = {
        t: Quota(total_bytes=(5 * 10**13 if args.tight else 5 * 10**15), per_endpoint=q)
        for t, q in w["quota_ep"].items()
    }

    t0, c0 = time.perf_counter(), time.process_time()
    rules = build_rules(w, table, file_ids, table.custom_keys())
    first = solve(ep, files, rules, replicas, quotas=quotas, seed=args.seed)
    t_first, c_first = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    again = solve(ep, files, rules, replicas, first.locks(), quotas=quotas, seed=args.seed)
    t_again, c_again = time.perf_counter() - t0, time.process_time() - c0

    sizes = [int(s) for s in w["sizes"]]
    reps: dict[int, set[int]] = {int(f): set() for f in file_ids}
    for f, e in zip(w["rep_f"].tolist(), w["rep_e"].tolist(), strict=True):
        reps[f + 1].add(e)
    free = [int(x) for x in ep.free]
    k = min(args.baseline_rules, len(rules))
    t0, c0 = time.perf_counter(), time.process_time()
    base_transfers = baseline(rules[:k], table, sizes, reps, free, [True] * len(table), quotas, args.seed)
    t_base = (time.perf_counter() - t0) * len(rules) / k
    c_base = (time.process_time() - c0) * len(rules) / k
    ours_k = int(np.count_nonzero(first.transfer_rule < k))

    states = {s: first.states.count(s) for s in ("ok", "replicating", "stuck")}
    result = {
        "endpoints": len(table),
        "files": len(file_ids),
        "rules": len(rules),
        "locks": len(first.lock_rule),
        "transfers": len(first.transfer_rule),
        "rule_states": states,
        "first_solve_wall_s": round(t_first, 3),
        "first_solve_cpu_s": round(c_first, 3),
        "resolve_wall_s": round(t_again, 3),
        "resolve_cpu_s": round(c_again, 3),
        "resolve_new_transfers": len(again.transfer_rule),
        "baseline_wall_s_scaled": round(t_base, 3),
        "baseline_cpu_s_scaled": round(c_base, 3),
        "baseline_rules_measured": k,
        "speedup_vs_baseline_cpu": round(c_base / c_first, 1),
        "transfers_first_k_rules": {"solver": ours_k, "baseline": base_transfers},
        "goal_met_<=5s_wall": t_first <= 5.0 and t_again <= 5.0,
    }
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
