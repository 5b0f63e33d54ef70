"""A 3-center toy network for the broker tests, with numbers chosen so expected values are easy by hand.

Centers: ``jn`` (Jinan, PUE 1.2, renewable 0.5, general/important/core), ``zb`` (Zibo, PUE 1.5, general/
important), ``qd`` (Qingdao, PUE 1.3, renewable 0.2, general only). Pools in order:

====  ========  ======  =====  ==========  ===========  ===========================  =====  =========
idx   pool      center  nodes  cpus/node   gpus/node    accelerator (class)          kW     CNY/node-h
====  ========  ======  =====  ==========  ===========  ===========================  =====  =========
0     jn-cpu    jn      10     64          0            (cpu)                        0.5    10
1     jn-a100   jn      4      96          8            A100 (gpu)                   4.0    200
2     zb-cpu    zb      20     32          0            (cpu)                        0.4    6
3     qd-910b   qd      8      192         8            Ascend 910B (npu)            5.0    150
4     qd-cpu    qd      5      64          0            (cpu)                        0.5    8
====  ========  ======  =====  ==========  ===========  ===========================  =====  =========

Links: jn–zb 100 Gbps, measured 0.7 ms; jn–qd 40 Gbps, estimated; zb–qd unlinked (10 Gbps default).
"""

from __future__ import annotations

from huanghe.domain.network import Topology

TOY = {
    "name": "toy",
    "regions": [
        {"id": "shenghui", "name_zh": "省会经济圈", "name_en": "Capital circle"},
        {"id": "jiaodong", "name_zh": "胶东经济圈", "name_en": "Jiaodong circle"},
    ],
    "cities": [
        {
            "id": "jinan",
            "name_zh": "济南",
            "name_en": "Jinan",
            "region": "shenghui",
            "lon": 117.00,
            "lat": 36.65,
        },
        {
            "id": "zibo",
            "name_zh": "淄博",
            "name_en": "Zibo",
            "region": "shenghui",
            "lon": 118.05,
            "lat": 36.78,
        },
        {
            "id": "qingdao",
            "name_zh": "青岛",
            "name_en": "Qingdao",
            "region": "jiaodong",
            "lon": 120.33,
            "lat": 36.07,
        },
    ],
    "centers": [
        {
            "id": "jn",
            "name_zh": "济南中心",
            "name_en": "Jinan center",
            "city": "jinan",
            "tier": "national",
            "kind": "supercomputing",
            "operator": "test",
            "lon": 117.00,
            "lat": 36.65,
            "it_design_kw": 1000,
            "energy": {"pue": 1.2, "renewable_share": 0.5, "grid_emission_kg_per_kwh": 0.6},
            "allowed_data_classes": ["general", "important", "core"],
            "pools": [
                {
                    "id": "jn-cpu",
                    "nodes": 10,
                    "cpus_per_node": 64,
                    "mem_gb_per_node": 256,
                    "power_kw_per_node": 0.5,
                    "price_cny_per_hour": 10,
                },
                {
                    "id": "jn-a100",
                    "accelerator": "A100",
                    "accelerator_class": "gpu",
                    "nodes": 4,
                    "cpus_per_node": 96,
                    "gpus_per_node": 8,
                    "mem_gb_per_node": 1024,
                    "power_kw_per_node": 4.0,
                    "price_cny_per_hour": 200,
                    "speed": {"gpu": 2.0, "inference": 2.0},
                },
            ],
        },
        {
            "id": "zb",
            "name_zh": "淄博中心",
            "name_en": "Zibo center",
            "city": "zibo",
            "tier": "provincial",
            "kind": "general",
            "operator": "test",
            "lon": 118.05,
            "lat": 36.78,
            "it_design_kw": 500,
            "energy": {"pue": 1.5, "renewable_share": 0.0, "grid_emission_kg_per_kwh": 0.6},
            "allowed_data_classes": ["general", "important"],
            "pools": [
                {
                    "id": "zb-cpu",
                    "nodes": 20,
                    "cpus_per_node": 32,
                    "mem_gb_per_node": 128,
                    "power_kw_per_node": 0.4,
                    "price_cny_per_hour": 6,
                },
            ],
        },
        {
            "id": "qd",
            "name_zh": "青岛中心",
            "name_en": "Qingdao center",
            "city": "qingdao",
            "tier": "provincial",
            "kind": "intelligent",
            "operator": "test",
            "lon": 120.33,
            "lat": 36.07,
            "it_design_kw": 800,
            "energy": {"pue": 1.3, "renewable_share": 0.2, "grid_emission_kg_per_kwh": 0.6},
            "allowed_data_classes": ["general"],
            "pools": [
                {
                    "id": "qd-910b",
                    "accelerator": "Ascend 910B",
                    "accelerator_class": "npu",
                    "nodes": 8,
                    "cpus_per_node": 192,
                    "gpus_per_node": 8,
                    "mem_gb_per_node": 1536,
                    "power_kw_per_node": 5.0,
                    "price_cny_per_hour": 150,
                    "speed": {"gpu": 1.0, "inference": 1.5},
                },
                {
                    "id": "qd-cpu",
                    "nodes": 5,
                    "cpus_per_node": 64,
                    "mem_gb_per_node": 256,
                    "power_kw_per_node": 0.5,
                    "price_cny_per_hour": 8,
                    "speed": {"cpu": 1.25},
                },
            ],
        },
    ],
    "links": [
        {"a": "jn", "b": "zb", "bandwidth_gbps": 100, "latency_ms": 0.7},
        {"a": "jn", "b": "qd", "bandwidth_gbps": 40, "hops": 2},
    ],
}


def toy_topology() -> Topology:
    """The toy network as a validated :class:`Topology`."""
    from huanghe.catalog.topology import parse_topology

    return parse_topology(TOY, "<toy>")
