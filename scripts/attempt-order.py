#!/usr/bin/env python3
"""Weigh orders of the decode pipeline's attempts from an attempt matrix.

    cargo run --release -p evisa-scan --example decode_bench -- \\
        --matrix --repeat 3 DIR... > matrix.tsv
    scripts/attempt-order.py matrix.tsv [--search]

The matrix has every attempt's time and read on every image (an attempt's read
does not depend on the attempts before it), so the time and read of any order
follow without decoding again: an image costs the attempts up to the first
that decodes anything, and counts as read when that one decoded a labelled
text. Frames fall in three classes, each with its own attempts and order:
photos above 2,200 px (a quarter-size copy first), frames up to 1,100 px (a 2x
upscale) and those between.

Prints, per set, images read and the median and p95 ms of the pipeline's
present order; with --search, also the order per class a greedy search finds
(move one attempt at a time) that keeps every read on every set and lowers
the largest ratio of a set's median or p95 to its goal (given with --goal SET=MEDIAN/P95, in ms; a set
without one may not get more than 5 % slower at p95).
"""
import sys
from collections import defaultdict

PRESENT = [
    "own-quarter", "own-local", "own-otsu", "own-hard", "rqrr-bitmap", "rqrr-plain",
    "own-up2", "own-down2", "own-down2-otsu", "own-soft", "own-inverted", "own-full",
]
# the hard attempt reuses the local one's means and failed triples, and the
# bitmap one its bitmap: they stay after it
AFTER = {"own-hard": "own-local", "rqrr-bitmap": "own-local"}


def load(path):
    images = defaultdict(dict)  # (set, image) -> attempt -> (ms, read)
    for line in open(path):
        s, img, att, ms, read = line.rstrip("\n").split("\t")
        images[(s, img)][att] = (float(ms), int(read))
    return images


def klass(atts):
    if "own-quarter" in atts:
        return "big"
    if "own-up2" in atts:
        return "small"
    return "mid"


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, round((len(v) - 1) * p))] if v else 0.0


def evaluate(images, orders):
    per = defaultdict(lambda: [0, []])
    for (s, _), atts in images.items():
        t, read = 0.0, 0
        for a in orders[klass(atts)]:
            if a not in atts:
                continue
            ms, r = atts[a]
            t += ms
            if r:
                read = r == 1
                break
        per[s][0] += read
        per[s][1].append(t)
    return {s: (n, pct(v, 0.5), pct(v, 0.95), len(v)) for s, (n, v) in per.items()}


def valid(order):
    return all(order.index(b) < order.index(a) for a, b in AFTER.items())


def score(res, base, goals):
    if any(res[s][0] < base[s][0] for s in base):
        return float("inf")
    # sets without a goal only may not get slower than the present order
    if any(res[s][2] > base[s][2] * 1.05 for s in res if s not in goals):
        return float("inf")
    # the worst ratio first, then the sum of all (so sets under their goal
    # still improve once the worst cannot)
    r = [x for s in res if s in goals for x in (res[s][1] / goals[s][0], res[s][2] / goals[s][1])]
    return max(r) + sum(r) / 100


def main():
    args = sys.argv[1:]
    search = "--search" in args
    goals = {}
    while "--goal" in args:
        i = args.index("--goal")
        k, v = args[i + 1].rsplit("=", 1)
        med, p95 = v.split("/")
        goals[k] = (float(med), float(p95))
        del args[i:i + 2]
    orders = {k: list(PRESENT) for k in ("big", "mid", "small")}
    while "--order" in args:
        # --order CLASS=a,b,c: evaluate (and search from) this order instead
        i = args.index("--order")
        k, v = args[i + 1].split("=", 1)
        orders[k] = v.split(",") + [a for a in PRESENT if a not in v.split(",")]
        del args[i:i + 2]
    images = load([a for a in args if not a.startswith("--")][0])
    given = evaluate(images, orders)
    orders_given = dict(orders)
    orders = {k: list(PRESENT) for k in ("big", "mid", "small")}
    base = evaluate(images, orders)

    def show(title, res):
        print(title)
        for s, (n, med, p95, tot) in sorted(res.items()):
            g = f"  (goal {goals[s][0]:.1f} / {goals[s][1]:.1f})" if s in goals else ""
            print(f"  {s:<40} {n:>4}/{tot:<4} median {med:6.2f}  p95 {p95:7.2f}{g}")

    show("present order", base)
    if orders_given != orders:
        show("given order", given)
        orders = orders_given
    if not search:
        return
    best = score(evaluate(images, orders), base, goals)
    improved = True
    while improved:
        improved = False
        for k in orders:
            for a in PRESENT:
                cur = orders[k]
                for j in range(len(cur)):
                    cand = [x for x in cur if x != a]
                    cand.insert(j, a)
                    if cand == cur or not valid(cand):
                        continue
                    trial = dict(orders, **{k: cand})
                    sc = score(evaluate(images, trial), base, goals)
                    if sc < best - 1e-9:
                        best, orders, improved = sc, trial, True
    for k, o in orders.items():
        print(f"order {k}: {' '.join(o)}")
    show("searched order", evaluate(images, orders))


if __name__ == "__main__":
    main()
