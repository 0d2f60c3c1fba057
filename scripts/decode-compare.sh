#!/usr/bin/env bash
# Run zxing-cpp (PyPI binding), zbar (zbarimg) and this crate's pipeline (plus
# plain rqrr) over the same corpus-style folders (IMAGE + IMAGE.txt) and print
# read/total per folder side by side.
#   scripts/decode-compare.sh DIR...
# Installs what is missing: `pip install zxing-cpp`, `apt-get install -y zbar-tools`.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR..." >&2; exit 2; }
cd "$(dirname "$0")/.."
python3 -c 'import zxingcpp' 2>/dev/null || pip install -q zxing-cpp
python3 -c 'import PIL' 2>/dev/null || pip install -q pillow
command -v zbarimg >/dev/null || { apt-get update -qq && apt-get install -y -qq zbar-tools; }
cargo build -q --release --example decode_bench
out=$(mktemp -d)
python3 - "$out" "$@" <<'PY'
import os, sys, subprocess, time, statistics
import zxingcpp
from PIL import Image
out, dirs = sys.argv[1], sys.argv[2:]
exts = ('.png', '.jpg', '.jpeg', '.webp')
rows = {}
for d in dirs:
    for root, _, files in os.walk(d):
        for f in sorted(files):
            if not f.lower().endswith(exts):
                continue
            p = os.path.join(root, f)
            t = os.path.splitext(p)[0] + '.txt'
            if not os.path.exists(t):
                continue
            exp = open(t, encoding='utf-8', errors='replace', newline='').read()
            # trailing line ends trimmed on both sides (some texts end in CRLF)
            exp = exp.rstrip('\r\n')
            r = rows.setdefault(root, {'n': 0, 'zx': 0, 'zb': 0, 'zxt': []})
            r['n'] += 1
            img = Image.open(p).convert('L')
            t0 = time.perf_counter()
            res = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
            r['zxt'].append((time.perf_counter() - t0) * 1000)
            if any(x.text.rstrip('\r\n') == exp for x in res):
                r['zx'] += 1
            z = subprocess.run(['zbarimg', '-q', '--raw', '-Sdisable', '-Sqrcode.enable', p],
                               capture_output=True)
            txt = z.stdout.decode('utf-8', 'replace')
            if txt.rstrip('\r\n') == exp:
                r['zb'] += 1
with open(os.path.join(out, 'py.tsv'), 'w') as fh:
    for k, r in sorted(rows.items()):
        fh.write(f"{k}\t{r['n']}\t{r['zx']}\t{r['zb']}\t{statistics.median(r['zxt']):.1f}\n")
PY
./target/release/examples/decode_bench "$@" > "$out/rs.txt"
./target/release/examples/decode_bench --plain "$@" > "$out/plain.txt"
printf '%-52s %7s %9s %9s %9s %9s %11s\n' folder total evisa rqrr zxing-cpp zbar "evisa med"
tn=0; te=0; tp=0; tz=0; tb=0
while IFS=$'\t' read -r dir n zx zb zxt; do
  e=$(awk -v d="$dir" '$1==d {print $2}' "$out/rs.txt"); e=${e%%/*}
  med=$(awk -v d="$dir" '$1==d {print $3}' "$out/rs.txt")
  p=$(awk -v d="$dir" '$1==d {print $2}' "$out/plain.txt"); p=${p%%/*}
  printf '%-52s %7s %9s %9s %9s %9s %8s ms\n' "$dir" "$n" "${e:-0}" "${p:-0}" "$zx" "$zb" "$med"
  tn=$((tn+n)); te=$((te+${e:-0})); tp=$((tp+${p:-0})); tz=$((tz+zx)); tb=$((tb+zb))
done < "$out/py.tsv"
printf '%-52s %7s %9s %9s %9s %9s\n' TOTAL "$tn" "$te" "$tp" "$tz" "$tb"
rm -rf "$out"
