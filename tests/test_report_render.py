"""Reports: HTML content, charts that are real pictures, PDF pages rendered back to PNG with poppler."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from typer.testing import CliRunner

from huanghe.catalog.topology import dump_topology
from huanghe.cli.main import app
from huanghe.observatory import charts, reports
from tests.observatory_testnet import small_network

DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def _png_std(png: bytes) -> float:
    return float(np.asarray(mpimg.imread(io.BytesIO(png)), dtype=float)[..., :3].std())


def test_charts_are_pictures() -> None:
    png = charts.bars(["济南", "青岛"], [1.0, 2.0], "测试", "PB", line=1.5)
    assert png.startswith(b"\x89PNG") and _png_std(png) > 0.05
    blank = charts.bars(["a"], [0.0], "", "")
    assert _png_std(png) > _png_std(blank)  # bars add ink
    assert charts.cjk_font_name() is not None, "install fonts-noto-cjk (make install does)"


@pytest.mark.parametrize("kind", ["storage", "index"])
def test_html_zh_and_en(kind: str, tmp_path: Path) -> None:
    topo = small_network()
    out = reports.write_report(kind, topo, tmp_path / f"{kind}.html", 2024, "zh")
    html = out.read_text(encoding="utf-8")
    assert ("存力发展报告" if kind == "storage" else "综合算力发展指数报告") in html
    assert "示意数据" in html and 'lang="zh-CN"' in html
    images = DATA_URI.findall(html)
    assert len(images) == 4
    assert all(_png_std(base64.b64decode(b)) > 0.02 for b in images)
    en = reports.write_report(kind, topo, tmp_path / f"{kind}_en.html", 2024, "en").read_text(
        encoding="utf-8"
    )
    assert "illustrative" in en and ("storage development" in en or "compute index" in en)
    if kind == "index":
        assert "Jinan" in en and "jinan" in html


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (make test-deps)")
def test_pdf_pages_and_charts(tmp_path: Path) -> None:
    net = tmp_path / "small.yaml"
    net.write_text(dump_topology(small_network()), encoding="utf-8")
    runner = CliRunner()
    for kind, min_pages in (("storage", 2), ("index", 3)):
        pdf = tmp_path / f"{kind}.pdf"
        result = runner.invoke(
            app, ["report", kind, "--year", "2024", "--out", str(pdf), "--network", str(net)]
        )
        assert result.exit_code == 0, result.output
        assert pdf.read_bytes().startswith(b"%PDF")
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
        assert min_pages <= pages <= 10
        listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True)
        image_rows = [ln for ln in listing.stdout.splitlines()[2:] if ln.strip()]
        assert len(image_rows) >= 4  # the four charts are embedded
        subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / kind)], check=True)
        rendered = sorted(tmp_path.glob(f"{kind}-*.png"))
        assert len(rendered) == pages
        first = np.asarray(mpimg.imread(rendered[0]), dtype=float)[..., :3]
        assert first.std() > 0.05  # text and a chart, not a blank page
        # some page is a chart page: a good share of strongly coloured pixels, not only black text on white
        colour = [
            (np.ptp(np.asarray(mpimg.imread(p), dtype=float)[..., :3], axis=2) > 0.2).mean() for p in rendered
        ]
        assert max(colour) > 0.03, colour  # ≤ 0.01 without the charts, ~0.05 with them
