#!/usr/bin/env bash
# Run this crate's pipeline (evisa), plain rqrr, zxing-cpp (PyPI binding) and zbar
# (zbarimg) over the same corpus-style folders (IMAGE + IMAGE.txt, and IMAGE.all.txt
# for images with several codes) and print, per folder and per set (each DIR
# argument), read/total and the decoding CPU time (median and p95, ms) per decoder.
#   scripts/decode-compare.sh DIR...
# e.g. scripts/decode-compare.sh /tmp/sim1 /tmp/sim7 ../shared/qr-corpus ../shared/qr-real
# Read = the decoded text equals any labelled text (NAME.all.txt, else NAME.txt),
# trailing CR/LF trimmed on both sides. CPU: evisa and rqrr in-process on the
# decoding thread (image loading excluded), zxing-cpp in-process (thread CPU time,
# loading excluded), zbar a child process (its CPU time includes loading the image).
# One thread each, run one after the other in the same invocation. Each image
# is decoded REPEAT times (default 3) by evisa, rqrr and zxing-cpp and its
# fastest time kept: this VM's neighbours move a single run by a quarter.
# Installs what is missing: `pip install zxing-cpp pillow`, `apt-get install -y zbar-tools`.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DIR..." >&2; exit 2; }
dirs=()
for d in "$@"; do dirs+=("$(cd "$d" && pwd)"); done
cd "$(dirname "$0")/.."
python3 -c 'import zxingcpp' 2>/dev/null || pip install -q zxing-cpp
python3 -c 'import PIL' 2>/dev/null || pip install -q pillow
command -v zbarimg >/dev/null || { apt-get update -qq && apt-get install -y -qq zbar-tools; }
# DECODE_BENCH=path runs a decode_bench built elsewhere (e.g. an older commit's).
bench=${DECODE_BENCH:-./target/release/examples/decode_bench}
[ -n "${DECODE_BENCH:-}" ] || cargo build -q --release -p evisa-scan --example decode_bench
repeat=${REPEAT:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
i=0
for d in "${dirs[@]}"; do
  "$bench" --repeat "$repeat" "$d" > "$out/evisa.$i"
  "$bench" --repeat "$repeat" --plain "$d" > "$out/rqrr.$i"
  i=$((i + 1))
done
python3 - "$out" "$repeat" "${dirs[@]}" <<'PY'
import os, sys, subprocess, time, resource
import zxingcpp
from PIL import Image
out, repeat, dirs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
exts = ('.png', '.jpg', '.jpeg', '.webp')

def unescape(line):
    r, i = [], 0
    while i < len(line):
        c = line[i]
        if c == '\\' and i + 1 < len(line):
            n = line[i + 1]
            r.append({'n': '\n', 'r': '\r'}.get(n, n))
            i += 2
        else:
            r.append(c)
            i += 1
    return ''.join(r)

def labels(p):
    stem = os.path.splitext(p)[0]
    a = stem + '.all.txt'
    if os.path.exists(a):
        v = [unescape(l) for l in open(a, encoding='utf-8', errors='replace', newline='').read().split('\n') if l]
        if v:
            return v
    t = stem + '.txt'
    if not os.path.exists(t):
        return None
    return [open(t, encoding='utf-8', errors='replace', newline='').read()]

def pct(v, p):
    if not v:
        return 0.0
    v = sorted(v)
    return v[min(len(v) - 1, round((len(v) - 1) * p))]

def bench_rows(path):
    # decode_bench table: folder, read a/b, ascii a/b, median, p95, cpu med, cpu p95
    rows = {}
    for line in open(path):
        f = line.split()
        if len(f) in (6, 7) and '/' in f[1]:
            rows[f[0]] = (int(f[1].split('/')[0]), float(f[5]), float(f[6]) if len(f) == 7 else float('nan'))
    return rows

trim = lambda s: s.rstrip('\r\n')
hdr = f"{'folder':<34} {'n':>4} | {'evisa':>5} {'rqrr':>5} {'zxing':>5} {'zbar':>5} | cpu ms med/p95: {'evisa':>11} {'rqrr':>11} {'zxing':>11} {'zbar*':>11}"
print(hdr)
for k, top in enumerate(dirs):
    ev, rq = bench_rows(f"{out}/evisa.{k}"), bench_rows(f"{out}/rqrr.{k}")
    groups = {}
    for root, _, files in os.walk(top):
        for f in sorted(files):
            if not f.lower().endswith(exts):
                continue
            p = os.path.join(root, f)
            lab = labels(p)
            if lab is not None:
                groups.setdefault(root, []).append((p, [trim(x) for x in lab]))
    tot = {'n': 0, 'zx': 0, 'zb': 0, 'zxt': [], 'zbt': []}
    for root in sorted(groups):
        r = {'n': 0, 'zx': 0, 'zb': 0, 'zxt': [], 'zbt': []}
        for p, lab in groups[root]:
            r['n'] += 1
            img = Image.open(p).convert('L')
            best = None
            for _ in range(max(1, repeat)):
                t0 = time.thread_time()
                res = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
                t = (time.thread_time() - t0) * 1000
                best = t if best is None else min(best, t)
            r['zxt'].append(best)
            r['zx'] += any(trim(x.text) in lab for x in res)
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            z = subprocess.run(['zbarimg', '-q', '--raw', '-Sdisable', '-Sqrcode.enable', p],
                               capture_output=True)
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            r['zbt'].append((c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime) * 1000)
            got = z.stdout.decode('utf-8', 'replace').split('\n')
            r['zb'] += any(trim(g) in lab for g in got if g)
        for key in r:
            tot[key] += r[key]
        e, q = ev.get(root, (0, 0, 0)), rq.get(root, (0, 0, 0))
        name = os.path.relpath(root, os.path.dirname(top))
        name = name if len(name) <= 34 else '…' + name[-33:]
        print(f"{name:<34} {r['n']:>4} | {e[0]:>5} {q[0]:>5} {r['zx']:>5} {r['zb']:>5} |                 "
              f"{e[1]:>5.1f}/{e[2]:<5.1f} {q[1]:>5.1f}/{q[2]:<5.1f} {pct(r['zxt'], .5):>5.1f}/{pct(r['zxt'], .95):<5.1f} {pct(r['zbt'], .5):>5.1f}/{pct(r['zbt'], .95):<5.1f}")
    e, q = ev.get('TOTAL', (0, 0, 0)), rq.get('TOTAL', (0, 0, 0))
    name = 'SET ' + os.path.basename(top)
    print(f"{name:<34} {tot['n']:>4} | {e[0]:>5} {q[0]:>5} {tot['zx']:>5} {tot['zb']:>5} |                 "
          f"{e[1]:>5.1f}/{e[2]:<5.1f} {q[1]:>5.1f}/{q[2]:<5.1f} {pct(tot['zxt'], .5):>5.1f}/{pct(tot['zxt'], .95):<5.1f} {pct(tot['zbt'], .5):>5.1f}/{pct(tot['zbt'], .95):<5.1f}")
    print()
print("* zbar runs as a child process: its CPU time includes loading the image.")
PY
