"""A small hand-made network for the observatory tests (numbers chosen to be checked by hand)."""

from __future__ import annotations

from typing import Any

from huanghe.catalog.topology import parse_topology
from huanghe.domain.network import Topology


def _center(
    cid: str,
    city: str,
    tier: str,
    kind: str,
    kw: float,
    year: int,
    pue: float,
    ren: float,
    storage: list[tuple[str, str, float]],
    egress: float,
    pon: float,
    pools: list[dict[str, Any]],
) -> dict[str, Any]:
    lonlat = CITY_LONLAT[city]
    return {
        "id": cid,
        "name_zh": f"{cid}中心",
        "name_en": f"{cid} center",
        "city": city,
        "tier": tier,
        "kind": kind,
        "operator": "test",
        "lon": lonlat[0] + 0.01,
        "lat": lonlat[1] + 0.01,
        "it_design_kw": kw,
        "opened_year": year,
        "energy": {"pue": pue, "renewable_share": ren, "grid_emission_kg_per_kwh": 0.6},
        "storage": [{"medium": m, "temperature": t, "capacity_tb": tb} for m, t, tb in storage],
        "egress_gbps": egress,
        "pon10g_port_share": pon,
        "pools": pools,
    }


def _pool(pid: str, cls: str, nodes: int, **peak: float) -> dict[str, Any]:
    return {
        "id": pid,
        "accelerator_class": cls,
        "nodes": nodes,
        "cpus_per_node": 64,
        "gpus_per_node": 0 if cls == "cpu" else 8,
        "mem_gb_per_node": 256,
        "peak_tflops_per_node": peak,
        "power_kw_per_node": 1.0,
        "price_cny_per_hour": 10.0,
    }


CITY_LONLAT = {
    "jinan": (117.00, 36.65),
    "zibo": (118.05, 36.78),
    "qingdao": (120.33, 36.07),
    "yantai": (121.39, 37.52),
    "linyi": (118.35, 35.05),
}
CITY_REGION = {
    "jinan": "shenghui",
    "zibo": "shenghui",
    "qingdao": "jiaodong",
    "yantai": "jiaodong",
    "linyi": "lunan",
}


def small_network_dict() -> dict[str, Any]:
    """Six centers in five cities of three circles.

    Compute (FP32-eq): jn-sc 1000 nodes × 1 TF FP64 × 2 = 0.002 EF supercomputing; jn-dc 1000 × 2 TF FP32 =
    0.002 EF general; qd-ai 500 × 8 TF FP16 × 0.5 = 0.002 EF intelligent; yt-dc 500 × 2 TF = 0.001 EF general.
    """
    centers = [
        _center(
            "jn-sc", "jinan", "national", "supercomputing", 20000, 2011, 1.25, 0.3,
            [("flash", "hot", 50_000), ("hdd", "warm", 100_000), ("tape", "cold", 50_000)],
            4000, 0.8, [_pool("jn-sc-cpu", "cpu", 1000, fp64=1.0, fp32=2.0)],
        ),
        _center(
            "jn-dc", "jinan", "provincial", "general", 10000, 2016, 1.45, 0.1,
            [("flash", "hot", 20_000), ("hdd", "warm", 80_000)],
            3000, 0.6, [_pool("jn-dc-cpu", "cpu", 1000, fp32=2.0)],
        ),
        _center(
            "zb-edge", "zibo", "edge", "general", 200, 2012, 1.7, 0.0,
            [("hdd", "warm", 1_000)], 100, 0.2, [],
        ),
        _center(
            "qd-ai", "qingdao", "national", "intelligent", 15000, 2021, 1.2, 0.5,
            [("flash", "hot", 60_000), ("optical", "cold", 40_000)],
            5000, 0.9, [_pool("qd-ai-npu", "npu", 500, fp16=8.0)],
        ),
        _center(
            "yt-dc", "yantai", "provincial", "general", 8000, 2019, 1.35, 0.2,
            [("hdd", "warm", 50_000)], 2000, 0.7, [_pool("yt-dc-cpu", "cpu", 500, fp32=2.0)],
        ),
        _center(
            "ly-edge", "linyi", "edge", "general", 150, 2014, 1.6, 0.0,
            [("hdd", "warm", 500)], 50, 0.1, [],
        ),
    ]  # fmt: skip
    return {
        "name": "testnet",
        "regions": [
            {"id": "shenghui", "name_zh": "省会经济圈", "name_en": "Jinan capital"},
            {"id": "jiaodong", "name_zh": "胶东经济圈", "name_en": "Jiaodong"},
            {"id": "lunan", "name_zh": "鲁南经济圈", "name_en": "Southern Shandong"},
        ],
        "cities": [
            {
                "id": cid,
                "name_zh": cid,
                "name_en": cid.title(),
                "region": CITY_REGION[cid],
                "lon": lo,
                "lat": la,
            }
            for cid, (lo, la) in CITY_LONLAT.items()
        ],
        "centers": centers,
        "links": [
            {"a": "jn-sc", "b": "jn-dc", "bandwidth_gbps": 400, "latency_ms": 0.3},
            {"a": "jn-sc", "b": "qd-ai", "bandwidth_gbps": 400, "latency_ms": 2.5},
            {"a": "qd-ai", "b": "yt-dc", "bandwidth_gbps": 100, "latency_ms": 3.2},
        ],
    }


def small_network() -> Topology:
    return parse_topology(small_network_dict(), "testnet")
