"""Shandong's three economic circles and sixteen cities (FACTS.md §4: public, approximate city seats)."""

from __future__ import annotations

from huanghe.domain.network import City, Region

SHANDONG_REGIONS: tuple[Region, ...] = (
    Region(id="capital", name_zh="省会经济圈", name_en="Jinan capital circle"),
    Region(id="jiaodong", name_zh="胶东经济圈", name_en="Jiaodong circle"),
    Region(id="lunan", name_zh="鲁南经济圈", name_en="Southern Shandong circle"),
)

_CITY_ROWS: tuple[tuple[str, str, str, str, float, float], ...] = (
    ("jinan", "济南", "Jinan", "capital", 117.00, 36.65),
    ("zibo", "淄博", "Zibo", "capital", 118.05, 36.78),
    ("taian", "泰安", "Tai'an", "capital", 117.13, 36.18),
    ("liaocheng", "聊城", "Liaocheng", "capital", 115.97, 36.45),
    ("dezhou", "德州", "Dezhou", "capital", 116.29, 37.45),
    ("binzhou", "滨州", "Binzhou", "capital", 118.03, 37.36),
    ("dongying", "东营", "Dongying", "capital", 118.49, 37.46),
    ("qingdao", "青岛", "Qingdao", "jiaodong", 120.33, 36.07),
    ("yantai", "烟台", "Yantai", "jiaodong", 121.39, 37.52),
    ("weifang", "潍坊", "Weifang", "jiaodong", 119.10, 36.62),
    ("weihai", "威海", "Weihai", "jiaodong", 122.10, 37.50),
    ("rizhao", "日照", "Rizhao", "jiaodong", 119.46, 35.42),
    ("linyi", "临沂", "Linyi", "lunan", 118.35, 35.05),
    ("zaozhuang", "枣庄", "Zaozhuang", "lunan", 117.57, 34.86),
    ("jining", "济宁", "Jining", "lunan", 116.59, 35.38),
    ("heze", "菏泽", "Heze", "lunan", 115.48, 35.23),
)

SHANDONG_CITIES: tuple[City, ...] = tuple(
    City(id=i, name_zh=zh, name_en=en, region=r, lon=lon, lat=lat) for i, zh, en, r, lon, lat in _CITY_ROWS
)
