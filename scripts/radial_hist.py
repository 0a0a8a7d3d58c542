#!/usr/bin/env python3
"""Radial histogram of 2-D point clouds (CSV with header x,y): prints the modal radius
of the inner (r < split) and outer (r >= split) part and an ASCII histogram.
Usage: scripts/radial_hist.py [--split 2.0] FILE.csv [FILE.csv ...]"""
import csv, math, sys

args = sys.argv[1:]
split = 2.0
if args[:1] == ["--split"]:
    split, args = float(args[1]), args[2:]
bins, rmax = 60, 4.5
for path in args:
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    r = [math.hypot(float(a), float(b)) for a, b in rows]
    h = [0] * bins
    for v in r:
        if v < rmax:
            h[int(v / rmax * bins)] += 1
    centre = lambda i: (i + 0.5) * rmax / bins
    split_bin = int(split / rmax * bins)
    inner = max(range(split_bin), key=lambda i: h[i])
    outer = max(range(split_bin, bins), key=lambda i: h[i])
    print(f"{path}: n={len(r)} modal radius inner {centre(inner):.3f} outer {centre(outer):.3f}")
    top = max(h)
    for i in range(0, bins, 2):
        c = h[i] + h[i + 1]
        print(f"  r={i * rmax / bins:4.2f} {'#' * int(60 * c / (2 * top))}")
