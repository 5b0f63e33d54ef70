"""Build the bundled reference networks (deterministic): ``shandong-mini`` and the calibrated ``shandong``.

Run: ``.venv/bin/python scripts/build_shandong.py`` (``--check`` exits 1 if a file is out of date).

``shandong-mini`` (huanghe/catalog/networks/shandong-mini.yaml, 60 centers, about a tenth of the province) is
for fast tests. ``shandong`` (shandong.yaml) keeps the mini's 60 named centers as anchors and adds generated
ones, sized by :mod:`huanghe.catalog.calibrate` so that the yearly totals match the reported figures of
:mod:`huanghe.catalog.reported` (docs/shandong-calibration.md).

Public facts (FACTS.md): the three economic circles and 16 cities with their seats' coordinates; the existence
and city of the National Supercomputing Centers in Jinan and Qingdao, the Qingdao AI computing center (Laoshan,
Ascend-based), the provincial regional centers in Zaozhuang, Yantai and Dezhou, the 50 PFLOPS AI center in
Feicheng (Tai'an); the 2023 North China grid emission factor; accelerator peaks from vendors' datasheets; the
provincial totals of huanghe.catalog.reported. Everything else (which other centers exist, their sizes, pools,
PUE, storage, prices, links) is illustrative.
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path
from typing import Any

from huanghe.catalog.backbone import backbone_links
from huanghe.catalog.calibrate import build_centers
from huanghe.catalog.hardware import make_pool
from huanghe.catalog.places import SHANDONG_CITIES, SHANDONG_REGIONS
from huanghe.catalog.topology import dump_topology, loads_topology
from huanghe.domain.enums import CenterKind, CenterTier, DataClass, PueCategory, StorageMedium, Temperature
from huanghe.domain.network import Center, EnergyProfile, StorageTier, Topology

NETWORKS = Path(__file__).resolve().parent.parent / "huanghe" / "catalog" / "networks"
OUT = NETWORKS / "shandong.yaml"
OUT_MINI = NETWORKS / "shandong-mini.yaml"

NAT, PROV, IND, EDGE = CenterTier.NATIONAL, CenterTier.PROVINCIAL, CenterTier.INDUSTRY, CenterTier.EDGE
GEN, AI, HPC = CenterKind.GENERAL, CenterKind.INTELLIGENT, CenterKind.SUPERCOMPUTING
CM, CT, CU = "China Mobile 中国移动", "China Telecom 中国电信", "China Unicom 中国联通"
IMPORTANT = ("general", "important")
CORE = ("general", "important", "core")

# id, name_zh, name_en, city, tier, kind, operator, lon, lat, opened, PUE, renewable share,
# pools [(node model, nodes)], extras (allowed data classes, security, storage TB by medium, ...)
Row = tuple[str, str, str, str, CenterTier, CenterKind, str, float, float, int, float, float,
            list[tuple[str, int]], dict[str, Any]]  # fmt: skip
CENTERS: list[Row] = [
    # ---- Jinan 济南 (capital circle)
    ("nsc-jinan", "国家超级计算济南中心", "National Supercomputing Center in Jinan", "jinan", NAT, HPC,
     "National Supercomputing Center in Jinan 国家超算济南中心", 117.13, 36.68, 2011, 1.52, 0.08,
     [("xeon8358", 1200), ("hygon7285", 800), ("z100", 300), ("kunpeng920", 200), ("a100", 24)],
     {"allowed": IMPORTANT, "security": 4, "egress": 2400,
      "storage": {"flash": 30000, "hdd": 80000, "tape": 40000, "optical": 10000}}),
    ("jinan-bigdata", "国家工业大数据区域中心（山东）", "National industrial big-data regional center (Shandong)",
     "jinan", NAT, GEN, "Inspur Cloud 浪潮云", 117.12, 36.66, 2021, 1.25, 0.25,
     [("kunpeng920", 1500), ("hygon7285", 2000), ("xeon8358", 1200), ("ascend910b", 32)],
     {"allowed": CORE, "security": 4, "storage": {"flash": 20000, "hdd": 40000, "optical": 20000}}),
    ("inspur-jinan", "浪潮云济南数据中心", "Inspur Cloud Jinan data center", "jinan", PROV, GEN,
     "Inspur Cloud 浪潮云", 117.20, 36.68, 2017, 1.35, 0.12,
     [("xeon6248r", 2000), ("epyc7763", 800), ("a800", 32), ("h20", 16)], {}),
    ("ct-jinan", "中国电信济南云计算中心", "China Telecom Jinan cloud data center", "jinan", PROV, GEN,
     CT, 116.95, 36.62, 2012, 1.62, 0.05, [("xeon6248r", 2400), ("hygon7285", 1200), ("v100", 20)], {}),
    ("cm-jinan", "中国移动济南智算中心", "China Mobile Jinan AI computing center", "jinan", PROV, AI,
     CM, 117.06, 36.70, 2023, 1.22, 0.30, [("ascend910b", 64), ("h20", 32), ("kunpeng920", 800)], {}),
    ("jinan-power", "能源电力行业数据中心", "Power and energy industry data center", "jinan", IND, GEN,
     "State Grid Shandong Electric Power 国网山东省电力公司", 117.03, 36.66, 2016, 1.45, 0.20,
     [("kunpeng920", 200), ("hygon7285", 150), ("l20", 8)], {"allowed": CORE, "security": 4}),
    ("jinan-equipment", "特种设备行业数据中心", "Special equipment industry data center", "jinan", IND, GEN,
     "Shandong special equipment inspection institute 山东省特种设备检验机构", 116.98, 36.67, 2019, 1.48, 0.10,
     [("hygon7285", 60), ("xeon4314", 40)], {}),
    ("cu-jinan-edge", "中国联通济南高新区边缘节点", "China Unicom Jinan high-tech zone edge node", "jinan",
     EDGE, GEN, CU, 117.13, 36.70, 2022, 1.38, 0.10, [("xeon4314", 60), ("t4", 12)], {}),
    # ---- Qingdao 青岛 (Jiaodong)
    ("nsc-qingdao", "国家超级计算青岛中心", "National Supercomputing Center in Qingdao", "qingdao", NAT, HPC,
     "Laoshan Laboratory 崂山实验室", 120.67, 36.36, 2018, 1.32, 0.15,
     [("xeon8358", 800), ("hygon7285", 600), ("z100", 200), ("v100", 16)],
     {"allowed": IMPORTANT, "security": 4, "egress": 2000,
      "storage": {"flash": 20000, "hdd": 60000, "tape": 50000}}),
    ("qingdao-ai", "青岛人工智能计算中心（崂山）", "Qingdao AI computing center (Laoshan)", "qingdao", PROV, AI,
     "Qingdao AI Computing Center 青岛人工智能计算中心", 120.47, 36.11, 2022, 1.25, 0.20,
     [("ascend910b", 40), ("kunpeng920", 64)], {}),
    ("cm-qingdao", "中国移动青岛数据中心", "China Mobile Qingdao data center", "qingdao", PROV, GEN, CM,
     120.38, 36.18, 2015, 1.42, 0.10, [("xeon6248r", 2400), ("kunpeng920", 1000), ("a800", 24)], {}),
    ("ct-qingdao-ai", "中国电信青岛智算中心", "China Telecom Qingdao AI computing center", "qingdao", PROV, AI,
     CT, 120.20, 35.96, 2024, 1.20, 0.30, [("h800", 32), ("h20", 64), ("l20", 32)], {}),
    ("qingdao-port", "港口航运行业数据中心", "Ports and shipping industry data center", "qingdao", IND, GEN,
     "Shandong Port Group 山东港口集团", 120.31, 36.09, 2019, 1.40, 0.12, [("hygon7285", 120), ("t4", 20)],
     {"allowed": IMPORTANT}),
    ("qingdao-mfg", "智能制造工业互联网数据中心", "Smart manufacturing industrial-internet data center", "qingdao",
     IND, GEN, "Haier COSMOPlat 卡奥斯", 120.45, 36.12, 2018, 1.38, 0.15, [("xeon8358", 150), ("l20", 16)], {}),
    ("ct-qingdao-edge", "中国电信青岛西海岸边缘节点", "China Telecom Qingdao West Coast edge node", "qingdao",
     EDGE, GEN, CT, 120.18, 35.95, 2021, 1.45, 0.08, [("xeon4314", 50), ("t4", 10)], {}),
    ("cu-qingdao-edge", "中国联通青岛城阳边缘智算节点", "China Unicom Qingdao Chengyang edge AI node", "qingdao",
     EDGE, AI, CU, 120.40, 36.31, 2023, 1.35, 0.10, [("l20", 4), ("xeon4314", 20)], {}),
    # ---- Yantai 烟台 (Jiaodong)
    ("yantai-regional", "山东省工业大数据区域中心（烟台）", "Provincial industrial big-data regional center (Yantai)",
     "yantai", PROV, GEN, "Yantai big-data operator 烟台市大数据运营单位", 121.45, 37.46, 2022, 1.28, 0.22,
     [("kunpeng920", 800), ("hygon7285", 800), ("ascend910b", 32), ("l20", 16)],
     {"allowed": IMPORTANT, "storage": {"flash": 8000, "hdd": 20000, "optical": 3000}}),
    ("yantai-chem", "化工行业数据中心（烟台）", "Chemical industry data center (Yantai)", "yantai", IND, GEN,
     "Yantai chemical industry park 烟台化工产业园", 121.25, 37.50, 2014, 1.55, 0.05,
     [("hygon7285", 80), ("xeon6248r", 60)], {"allowed": IMPORTANT}),
    ("cm-yantai", "中国移动烟台数据中心", "China Mobile Yantai data center", "yantai", PROV, GEN, CM,
     121.37, 37.53, 2014, 1.51, 0.06, [("xeon6248r", 1200), ("t4", 16)], {}),
    ("cu-yantai-edge", "中国联通烟台莱山边缘节点", "China Unicom Yantai Laishan edge node", "yantai", EDGE, GEN,
     CU, 121.44, 37.51, 2022, 1.40, 0.08, [("xeon4314", 40)], {}),
    # ---- Weifang 潍坊 (Jiaodong)
    ("ct-weifang", "中国电信潍坊云计算中心", "China Telecom Weifang cloud data center", "weifang", PROV, GEN, CT,
     119.15, 36.70, 2016, 1.44, 0.08, [("xeon6248r", 1000), ("hygon7285", 600)], {}),
    ("weifang-equip", "动力装备行业数据中心", "Power-equipment manufacturing industry data center", "weifang",
     IND, GEN, "Weichai Power 潍柴动力", 119.08, 36.68, 2020, 1.36, 0.12, [("xeon8358", 100), ("a800", 8)], {}),
    ("weifang-agri", "农业大数据中心（寿光）", "Agricultural big-data center (Shouguang)", "weifang", IND, GEN,
     "Shouguang agricultural big-data company 寿光农业大数据公司", 118.79, 36.86, 2021, 1.40, 0.18,
     [("hygon7285", 40), ("t4", 8)], {}),
    ("cm-weifang-edge", "中国移动潍坊高新区边缘节点", "China Mobile Weifang high-tech zone edge node", "weifang",
     EDGE, GEN, CM, 119.20, 36.71, 2023, 1.33, 0.10, [("xeon4314", 40), ("t4", 6)], {}),
    # ---- Weihai 威海 (Jiaodong)
    ("weihai-marine", "海洋渔业行业数据中心", "Marine and fisheries industry data center", "weihai", IND, GEN,
     "Weihai marine industry consortium 威海海洋产业联盟", 122.05, 37.45, 2019, 1.42, 0.20,
     [("hygon7285", 60), ("l20", 4)], {}),
    ("cu-weihai", "中国联通威海数据中心", "China Unicom Weihai data center", "weihai", PROV, GEN, CU,
     122.12, 37.51, 2013, 1.58, 0.05, [("xeon6248r", 600), ("kunpeng920", 300)], {}),
    ("ct-weihai-edge", "中国电信威海边缘节点", "China Telecom Weihai edge node", "weihai", EDGE, GEN, CT,
     122.14, 37.47, 2022, 1.39, 0.10, [("xeon4314", 30)], {}),
    # ---- Rizhao 日照 (Jiaodong)
    ("rizhao-port", "港口物流行业数据中心（日照）", "Port logistics industry data center (Rizhao)", "rizhao", IND, GEN,
     "Shandong Port Group 山东港口集团", 119.55, 35.38, 2018, 1.46, 0.10, [("hygon7285", 80)],
     {"allowed": IMPORTANT}),
    ("rizhao-steel", "钢铁行业数据中心", "Steel industry data center", "rizhao", IND, GEN,
     "Shandong Iron and Steel Group 山钢集团", 119.40, 35.30, 2020, 1.50, 0.08,
     [("xeon6248r", 80), ("t4", 8)], {}),
    ("cm-rizhao-edge", "中国移动日照边缘节点", "China Mobile Rizhao edge node", "rizhao", EDGE, GEN, CM,
     119.52, 35.42, 2021, 1.42, 0.10, [("xeon4314", 40)], {}),
    # ---- Zibo 淄博 (capital circle)
    ("zibo-chem", "石化行业数据中心（淄博）", "Petrochemical industry data center (Zibo)", "zibo", IND, GEN,
     "Sinopec Qilu Petrochemical 中国石化齐鲁石化", 118.30, 36.80, 2015, 1.56, 0.05,
     [("hygon7285", 100), ("xeon6248r", 80)], {"allowed": IMPORTANT, "security": 4}),
    ("cu-zibo", "中国联通淄博数据中心", "China Unicom Zibo data center", "zibo", PROV, GEN, CU,
     118.06, 36.81, 2014, 1.53, 0.06, [("xeon6248r", 1200), ("kunpeng920", 400), ("v100", 8)], {}),
    ("ct-zibo-edge", "中国电信淄博边缘节点", "China Telecom Zibo edge node", "zibo", EDGE, GEN, CT,
     118.10, 36.78, 2022, 1.37, 0.10, [("xeon4314", 40), ("t4", 8)], {}),
    # ---- Tai'an 泰安 (capital circle)
    ("feicheng-ai", "肥城人工智能计算中心（50 PFLOPS）", "Feicheng AI computing center (50 PFLOPS)", "taian", PROV, AI,
     "Feicheng AI computing center operator 肥城智算中心运营方", 116.77, 36.18, 2023, 1.24, 0.30,
     [("ascend910b", 20), ("kunpeng920", 16)], {}),
    ("cm-taian", "中国移动泰安数据中心", "China Mobile Tai'an data center", "taian", PROV, GEN, CM,
     117.10, 36.20, 2017, 1.43, 0.10, [("xeon6248r", 800), ("hygon7285", 400)], {}),
    ("cu-taian-edge", "中国联通泰安边缘节点", "China Unicom Tai'an edge node", "taian", EDGE, GEN, CU,
     117.09, 36.19, 2021, 1.41, 0.10, [("xeon4314", 30)], {}),
    # ---- Liaocheng 聊城 (capital circle)
    ("ct-liaocheng", "中国电信聊城数据中心", "China Telecom Liaocheng data center", "liaocheng", PROV, GEN, CT,
     115.99, 36.46, 2012, 1.65, 0.04, [("xeon6248r", 600), ("hygon7285", 300)], {}),
    ("liaocheng-agri", "农业与食品行业数据中心（聊城）", "Agriculture and food industry data center (Liaocheng)",
     "liaocheng", IND, GEN, "Liaocheng agricultural big-data company 聊城农业大数据公司", 115.95, 36.42, 2020,
     1.45, 0.12, [("hygon7285", 40)], {}),
    ("cm-liaocheng-edge", "中国移动聊城边缘节点", "China Mobile Liaocheng edge node", "liaocheng", EDGE, GEN, CM,
     115.98, 36.47, 2022, 1.40, 0.10, [("xeon4314", 30), ("t4", 4)], {}),
    # ---- Dezhou 德州 (capital circle)
    ("dezhou-regional", "山东省工业大数据区域中心（德州）", "Provincial industrial big-data regional center (Dezhou)",
     "dezhou", PROV, GEN, "Dezhou big-data operator 德州市大数据运营单位", 116.35, 37.43, 2022, 1.27, 0.35,
     [("kunpeng920", 800), ("hygon7285", 800), ("h20", 24), ("ascend910b", 16)],
     {"allowed": IMPORTANT, "storage": {"flash": 8000, "hdd": 20000, "optical": 5000}}),
    ("dezhou-energy", "新能源行业数据中心（德州）", "New-energy industry data center (Dezhou)", "dezhou", IND, GEN,
     "Dezhou new-energy industry alliance 德州新能源产业联盟", 116.30, 37.48, 2019, 1.35, 0.45,
     [("hygon7285", 60), ("t4", 6)], {}),
    ("ct-dezhou-edge", "中国电信德州边缘节点", "China Telecom Dezhou edge node", "dezhou", EDGE, GEN, CT,
     116.28, 37.46, 2023, 1.36, 0.15, [("xeon4314", 30)], {}),
    # ---- Binzhou 滨州 (capital circle)
    ("binzhou-textile", "纺织与铝业行业数据中心", "Textile and aluminium industry data center", "binzhou", IND, GEN,
     "Binzhou industrial-internet company 滨州工业互联网公司", 118.00, 37.38, 2013, 1.52, 0.06,
     [("hygon7285", 60), ("xeon6248r", 40)], {}),
    ("cm-binzhou", "中国移动滨州数据中心", "China Mobile Binzhou data center", "binzhou", PROV, GEN, CM,
     118.05, 37.37, 2016, 1.47, 0.08, [("xeon6248r", 600), ("t4", 8)], {}),
    ("cu-binzhou-edge", "中国联通滨州边缘节点", "China Unicom Binzhou edge node", "binzhou", EDGE, GEN, CU,
     118.02, 37.35, 2022, 1.42, 0.10, [("xeon4314", 24)], {}),
    # ---- Dongying 东营 (capital circle)
    ("dongying-oil", "石油勘探行业数据中心（胜利油田）", "Petroleum exploration industry data center (Shengli Oilfield)",
     "dongying", IND, HPC, "Sinopec Shengli Oilfield 中国石化胜利油田", 118.55, 37.45, 2010, 1.68, 0.05,
     [("xeon6248r", 400), ("z100", 60), ("v100", 16)],
     {"allowed": CORE, "security": 4, "storage": {"flash": 3000, "hdd": 12000, "tape": 30000}}),
    ("ct-dongying", "中国电信东营数据中心", "China Telecom Dongying data center", "dongying", PROV, GEN, CT,
     118.52, 37.47, 2015, 1.49, 0.08, [("xeon6248r", 600)], {}),
    ("cm-dongying-edge", "中国移动东营边缘节点", "China Mobile Dongying edge node", "dongying", EDGE, GEN, CM,
     118.48, 37.44, 2022, 1.41, 0.12, [("xeon4314", 24), ("t4", 4)], {}),
    # ---- Linyi 临沂 (southern circle)
    ("cm-linyi", "中国移动临沂数据中心", "China Mobile Linyi data center", "linyi", PROV, GEN, CM,
     118.36, 35.10, 2016, 1.45, 0.08, [("xeon6248r", 1000), ("kunpeng920", 400)], {}),
    ("linyi-logistics", "商贸物流行业数据中心（临沂）", "Trade and logistics industry data center (Linyi)", "linyi",
     IND, GEN, "Linyi trade-logistics group 临沂商贸物流集团", 118.30, 35.07, 2020, 1.43, 0.10,
     [("hygon7285", 80), ("l20", 8)], {}),
    ("ct-linyi-edge", "中国电信临沂边缘节点", "China Telecom Linyi edge node", "linyi", EDGE, GEN, CT,
     118.34, 35.03, 2022, 1.39, 0.10, [("xeon4314", 30), ("t4", 6)], {}),
    # ---- Zaozhuang 枣庄 (southern circle)
    ("zaozhuang-regional", "山东省工业大数据区域中心（枣庄）",
     "Provincial industrial big-data regional center (Zaozhuang)", "zaozhuang", PROV, GEN,
     "Zaozhuang big-data operator 枣庄市大数据运营单位", 117.55, 34.83, 2022, 1.29, 0.25,
     [("kunpeng920", 800), ("hygon7285", 800), ("ascend910b", 24), ("l20", 8)],
     {"allowed": IMPORTANT, "storage": {"flash": 8000, "hdd": 20000, "optical": 3000}}),
    ("ct-zaozhuang", "中国电信枣庄数据中心", "China Telecom Zaozhuang data center", "zaozhuang", PROV, GEN, CT,
     117.60, 34.85, 2013, 1.60, 0.05, [("xeon6248r", 500)], {}),
    ("cu-zaozhuang-edge", "中国联通枣庄边缘节点", "China Unicom Zaozhuang edge node", "zaozhuang", EDGE, GEN, CU,
     117.58, 34.87, 2023, 1.38, 0.10, [("xeon4314", 30)], {}),
    # ---- Jining 济宁 (southern circle)
    ("ct-jining", "中国电信济宁数据中心", "China Telecom Jining data center", "jining", PROV, GEN, CT,
     116.60, 35.41, 2014, 1.50, 0.08, [("xeon6248r", 1200), ("hygon7285", 600), ("a800", 8)], {}),
    ("jining-coal", "能源煤炭行业数据中心（济宁）", "Coal and energy industry data center (Jining)", "jining", IND,
     GEN, "Shandong Energy Group 山东能源集团", 116.62, 35.45, 2017, 1.54, 0.06,
     [("hygon7285", 100), ("kunpeng920", 60)], {"allowed": IMPORTANT, "security": 4}),
    ("cm-jining-edge", "中国移动济宁边缘节点", "China Mobile Jining edge node", "jining", EDGE, GEN, CM,
     116.58, 35.39, 2022, 1.40, 0.10, [("xeon4314", 30), ("t4", 4)], {}),
    # ---- Heze 菏泽 (southern circle)
    ("cu-heze", "中国联通菏泽数据中心", "China Unicom Heze data center", "heze", PROV, GEN, CU,
     115.46, 35.25, 2015, 1.52, 0.06, [("xeon6248r", 500), ("hygon7285", 240)], {}),
    ("heze-biopharma", "农业与生物医药行业数据中心（菏泽）", "Agriculture and bio-pharma industry data center (Heze)",
     "heze", IND, GEN, "Heze bio-pharma industry park 菏泽生物医药产业园", 115.50, 35.22, 2021, 1.44, 0.12,
     [("hygon7285", 40), ("l20", 4)], {}),
    ("ct-heze-edge", "中国电信菏泽边缘节点", "China Telecom Heze edge node", "heze", EDGE, GEN, CT,
     115.47, 35.24, 2023, 1.37, 0.12, [("xeon4314", 24)], {}),
]  # fmt: skip

#: The plan's three provincial regional centers are the hubs of their economic circles.
REGION_HUBS = {"capital": "dezhou-regional", "jiaodong": "yantai-regional", "lunan": "zaozhuang-regional"}
#: A few measured one-way latencies, ms (illustrative), overriding the distance estimate.
MEASURED_MS = {
    ("nsc-jinan", "jinan-bigdata"): 0.21,
    ("nsc-jinan", "nsc-qingdao"): 2.31,
    ("dezhou-regional", "nsc-jinan"): 0.98,
    ("qingdao-ai", "yantai-regional"): 1.42,
    ("yantai-regional", "zaozhuang-regional"): 3.85,
}

DEFAULT_STORAGE_TB: dict[CenterTier, dict[str, float]] = {
    NAT: {"flash": 20000, "hdd": 60000, "tape": 20000},
    PROV: {"flash": 6000, "hdd": 15000},
    IND: {"flash": 1200, "hdd": 4000},
    EDGE: {"flash": 200, "hdd": 300},
}
DEFAULT_EGRESS_GBPS = {NAT: 2000.0, PROV: 800.0, IND: 200.0, EDGE: 40.0}
IT_HEADROOM = {NAT: 2.0, PROV: 2.5, IND: 1.6, EDGE: 1.25}
PRICE_FACTOR = {NAT: 0.9, PROV: 1.0, IND: 1.05, EDGE: 1.2}
PUE_CATEGORY = {NAT: PueCategory.ADVANCED, PROV: PueCategory.INTERMEDIATE}
WUE = {NAT: 1.6, PROV: 1.4}
TEMPERATURE = {"flash": Temperature.HOT, "hdd": Temperature.WARM, "tape": Temperature.COLD,
               "optical": Temperature.COLD}  # fmt: skip
OPERATORS = (CM, CT, CU)


def _frac(key: str, lo: float, hi: float) -> float:
    """A deterministic value in [lo, hi) derived from ``key`` (CRC-32, no Python hash randomisation)."""
    return lo + (hi - lo) * (zlib.crc32(key.encode()) % 10_000) / 10_000


def _pon_share(cid: str, operator: str) -> float:
    """Share of 10G-PON+ access ports: telecom operators 0.6-0.85, others 0.3-0.6 (illustrative)."""
    lo, hi = (0.6, 0.85) if operator in OPERATORS else (0.3, 0.6)
    return round(_frac(cid + "/pon", lo, hi), 2)


def build_center(row: Row) -> Center:
    cid, zh, en, city, tier, kind, operator, lon, lat, opened, pue, ren, pool_rows, extra = row
    pools = [make_pool(model, f"{cid}-{model}", nodes, PRICE_FACTOR[tier]) for model, nodes in pool_rows]
    pool_kw = sum(p.nodes * p.power_kw_per_node for p in pools)
    # the pools are the share a center offers on the network; colocation and storage use the rest of its power
    it_kw = float(round(pool_kw * IT_HEADROOM[tier], -1))
    if tier == EDGE:  # edge data center: at most 100 standard racks = 250 kW (GB 40879-2021)
        it_kw = min(250.0, max(60.0, it_kw))
    assert pool_kw <= it_kw, (cid, pool_kw, it_kw)
    utilisation = _frac(cid + "/util", 0.5, 0.85)
    storage_tb = extra.get("storage", DEFAULT_STORAGE_TB[tier])
    storage = [
        StorageTier(
            medium=StorageMedium(medium),
            temperature=TEMPERATURE[medium],
            capacity_tb=float(tb),
            used_tb=round(tb * _frac(f"{cid}/{medium}", 0.4, 0.8)),
        )
        for medium, tb in storage_tb.items()
    ]
    return Center(
        id=cid,
        name_zh=zh,
        name_en=en,
        city=city,
        tier=tier,
        kind=kind,
        operator=operator,
        lon=lon,
        lat=lat,
        it_design_kw=it_kw,
        racks_in_use=int(it_kw / 2.5 * utilisation),
        opened_year=opened,
        energy=EnergyProfile(
            pue=pue,
            pue_category=PUE_CATEGORY.get(tier, PueCategory.BASIC),
            renewable_share=ren,
            grid_emission_kg_per_kwh=0.6361,
            wue_l_per_kwh=WUE.get(tier),
        ),
        storage=storage,
        egress_gbps=float(extra.get("egress", DEFAULT_EGRESS_GBPS[tier])),
        pon10g_port_share=_pon_share(cid, operator),
        security_level=extra.get("security", 2 if tier == EDGE else 3),
        allowed_data_classes=[DataClass(c) for c in extra.get("allowed", ("general",))],
        pools=pools,
        illustrative=True,
    )


NOTE = (
    "Public facts (FACTS.md): the three economic circles and the 16 cities with approximate city-seat "
    "coordinates; that the National Supercomputing Centers in Jinan and Qingdao, the Qingdao AI computing "
    "center (Laoshan, Ascend-based), the provincial regional centers in Zaozhuang, Yantai and Dezhou and a "
    "50 PFLOPS AI center in Feicheng (Tai'an) exist where placed; the 2023 North China grid emission factor "
    "0.6361 kg CO2/kWh; per-accelerator peak TFLOPS from vendors' datasheets (Ascend 910B and Hygon DCU Z100: "
    "widely reported figures). Illustrative (every center and pool has illustrative: true): which other "
    "centers exist, all sizes, node counts, coordinates within a city, IT power, racks, PUE, renewable shares, "
    "storage, egress, 10G-PON shares, security levels, data classes, opening years, prices, speeds, link "
    "bandwidths and the measured link latencies. 公开事实与示意数据见上；除注明外均为示意数据。"
)


def _topology(name: str, description: str, note: str, centers: list[Center]) -> Topology:
    links = backbone_links(centers, SHANDONG_CITIES, REGION_HUBS, MEASURED_MS)
    keys = {frozenset((link.a, link.b)) for link in links if link.latency_ms is not None}
    missing = [k for k in MEASURED_MS if frozenset(k) not in keys]
    assert not missing, f"measured latencies on pairs without a link: {missing}"
    return Topology(
        name=name,
        version=1,
        description=description,
        note=note,
        regions=list(SHANDONG_REGIONS),
        cities=list(SHANDONG_CITIES),
        centers=centers,
        links=links,
    )


def build_mini() -> Topology:
    """The small network (60 named centers, about a tenth of the province) for fast tests."""
    return _topology(
        "shandong-mini",
        "Shandong province compute network, small reference data for fast tests (山东省算力网络参考数据·精简版)",
        NOTE,
        [build_center(row) for row in CENTERS],
    )


CALIBRATED_NOTE = (
    "Calibrated to Shandong's reported totals by year (huanghe.catalog.reported, docs/shandong-calibration.md): "
    "racks in use (>350,000 end-2023), intelligent share (26.7 % end-2023, >30 % Jan 2025), 166 rated 3A+ "
    "centers (Jun 2024), 9.66 EFLOPS (Jan 2025); storage and PUE follow documented assumptions. A center counts "
    "in year Y when opened_year <= Y (shandong@2024 selects a year). The 60 named centers are those of "
    "shandong-mini; the others (ids sd-<city>-NNN) are generated. "
) + NOTE


def build() -> Topology:
    """The calibrated network (anchors + generated centers, huanghe.catalog.calibrate)."""
    return _topology(
        "shandong",
        "Shandong province compute network, calibrated to the reported totals 2023-2025 (山东省算力网络参考数据，"
        "按公开总量校准)",
        CALIBRATED_NOTE,
        build_centers([build_center(row) for row in CENTERS]),
    )


HEADER = (
    "# Shandong reference compute network (山东省算力网络参考数据). Format: docs/topology.md.\n"
    "# Generated by scripts/build_shandong.py: edit the script and re-run it, not this file.\n"
)


def render(topo: Topology | None = None) -> str:
    """YAML text of ``topo`` (default: the calibrated network), validated."""
    text = HEADER + dump_topology(topo if topo is not None else build())
    loads_topology(text, "shandong.yaml")  # must validate
    return text


def main(argv: list[str]) -> int:
    stale = 0
    for out, topo in ((OUT_MINI, build_mini()), (OUT, build())):
        text = render(topo)
        if "--check" in argv:
            current = out.read_text(encoding="utf-8") if out.exists() else ""
            if current != text:
                print(f"{out} is out of date: run scripts/build_shandong.py", file=sys.stderr)
                stale = 1
            continue
        out.write_text(text, encoding="utf-8")
        print(
            f"wrote {out} ({len(text.splitlines())} lines, {len(topo.centers)} centers, {len(topo.pools())} pools)"
        )
    return stale


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
