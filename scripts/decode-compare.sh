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
cargo build -q --release -p evisa-scan --example decode_bench
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
            r = rows.setdefault(root, {'n': 0, 'zx': 0, 'zb': 0, 'na': 0, 'zxa': 0, 'zba': 0, 'zxt': []})
            asc = exp.isascii()
            r['n'] += 1
            r['na'] += asc
            img = Image.open(p).convert('L')
            t0 = time.thread_time()
            res = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
            r['zxt'].append((time.thread_time() - t0) * 1000)
            if any(x.text.rstrip('\r\n') == exp for x in res):
                r['zx'] += 1
                r['zxa'] += asc
            z = subprocess.run(['zbarimg', '-q', '--raw', '-Sdisable', '-Sqrcode.enable', p],
                               capture_output=True)
            txt = z.stdout.decode('utf-8', 'replace')
            if txt.rstrip('\r\n') == exp:
                r['zb'] += 1
                r['zba'] += asc
with open(os.path.join(out, 'py.tsv'), 'w') as fh:
    for k, r in sorted(rows.items()):
        fh.write(f"{k}\t{r['n']}\t{r['zx']}\t{r['zb']}\t{r['na']}\t{r['zxa']}\t{r['zba']}\t{statistics.median(r['zxt']):.1f}\n")
PY
./target/release/examples/decode_bench "$@" > "$out/rs.txt"
./target/release/examples/decode_bench --plain "$@" > "$out/plain.txt"
echo "read/total (all images) and, after the bar, the same for images whose expected text is ASCII"
echo "times: median on-CPU ms per image of the decoding thread (evisa: also wall-clock), one thread"
printf '%-44s %6s %6s %6s %6s %6s | %6s %6s %6s %6s %6s %9s %9s %9s\n' folder total evisa rqrr zxing zbar ascii evisa rqrr zxing zbar "evisa cpu" "evisa wall" "zxing cpu"
T=(0 0 0 0 0 0 0 0 0 0)
while IFS=$'\t' read -r dir n zx zb na zxa zba zxt; do
  e=$(awk -v d="$dir" '$1==d {print $2}' "$out/rs.txt"); e=${e%%/*}; e=${e:-0}
  ea=$(awk -v d="$dir" '$1==d {print $3}' "$out/rs.txt"); ea=${ea%%/*}; ea=${ea:-0}
  med=$(awk -v d="$dir" '$1==d {print $4}' "$out/rs.txt")
  cpu=$(awk -v d="$dir" '$1==d {print $6}' "$out/rs.txt")
  name=$dir; [ ${#name} -gt 44 ] && name="…${name: -43}"
  p=$(awk -v d="$dir" '$1==d {print $2}' "$out/plain.txt"); p=${p%%/*}; p=${p:-0}
  pa=$(awk -v d="$dir" '$1==d {print $3}' "$out/plain.txt"); pa=${pa%%/*}; pa=${pa:-0}
  printf '%-44s %6s %6s %6s %6s %6s | %6s %6s %6s %6s %6s %6s ms %7s ms %6s ms\n' "$name" "$n" "$e" "$p" "$zx" "$zb" "$na" "$ea" "$pa" "$zxa" "$zba" "$cpu" "$med" "$zxt"
  V=("$n" "$e" "$p" "$zx" "$zb" "$na" "$ea" "$pa" "$zxa" "$zba")
  for i in "${!V[@]}"; do T[$i]=$((T[$i] + V[$i])); done
done < "$out/py.tsv"
printf '%-44s %6s %6s %6s %6s %6s | %6s %6s %6s %6s %6s\n' TOTAL "${T[@]}"
echo "evisa median over all images: $(awk '$1=="TOTAL" {print $6}' "$out/rs.txt") ms on-CPU, $(awk '$1=="TOTAL" {print $4}' "$out/rs.txt") ms wall (one thread, release, image loading excluded)"
rm -rf "$out"
