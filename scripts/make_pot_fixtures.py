#!/usr/bin/python3
"""Reference values for tests/test_transport.cpp from POT's exact solver (ot.emd2).

Run with Debian's interpreter, which has python3-pot and numpy:
    /usr/bin/python3 scripts/make_pot_fixtures.py
It rewrites tests/fixtures/pot_*.json. Every case uses a fixed seed, so the output is
reproducible for a given POT/numpy. Coordinates are rounded to float32 first, because
gapscope keeps points as float: the C++ side then sees exactly the numbers POT saw.
Weights are written with repr(), which round-trips doubles exactly.
"""
import json
import os

import numpy as np
import ot

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures")


def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def emd_case(name, xa, wa, xb, wb, note):
    xa, xb = f32(xa), f32(xb)
    wa = np.asarray(wa, dtype=np.float64)
    wb = np.asarray(wb, dtype=np.float64)
    # POT wants equal totals; normalise as gapscope's emd() does.
    wa, wb = wa / wa.sum(), wb / wb.sum()
    M = ot.dist(xa, xb)  # squared Euclidean
    cost = float(ot.emd2(wa, wb, M, numItermax=100_000_000))
    return {
        "name": name,
        "kind": "emd",
        "note": note,
        "d": int(xa.shape[1]),
        "xa": xa.tolist(),
        "wa": wa.tolist(),
        "xb": xb.tolist(),
        "wb": wb.tolist(),
        "uniform": bool(np.all(wa == wa[0]) and np.all(wb == wb[0])),
        "emd2": cost,
    }


Q = 1024  # grid cases store coordinates as integers k, x = k / Q (exact in float32)


def grid_case(name, xa, xb, G, L, note):
    """The paper's validation metric (docs/math.md §5), replicated step by step: box cut
    (the border inside), nearest grid node, exact EMD between the histograms, each
    normalised to mass 1. gapscope keeps every in-box point where the paper truncates to
    equal counts (a prefix, which would depend on the points' order)."""
    qa = np.round(np.asarray(xa) * Q).astype(np.int64)
    qb = np.round(np.asarray(xb) * Q).astype(np.int64)
    xa, xb = qa / Q, qb / Q
    d = xa.shape[1]
    ina = xa[np.all(np.abs(xa) <= L, axis=1)]
    inb = xb[np.all(np.abs(xb) <= L, axis=1)]
    n = min(len(ina), len(inb))
    h = 2 * L / (G - 1)

    def index(p):
        k = np.clip(np.floor((p + L) / h + 0.5).astype(np.int64), 0, G - 1)
        if d == 1:
            return k[:, 0]
        return k[:, 1] * G + k[:, 0]

    ha = np.bincount(index(ina), minlength=G**d).astype(np.float64) / len(ina)
    hb = np.bincount(index(inb), minlength=G**d).astype(np.float64) / len(inb)
    nodes = -L + h * np.arange(G)
    if d == 1:
        grid = nodes[:, None]
    else:
        gx, gy = np.meshgrid(nodes, nodes)
        grid = np.c_[gx.ravel(), gy.ravel()]
    M = ot.dist(grid, grid)
    cost = float(ot.emd2(ha, hb, M, numItermax=100_000_000))
    return {
        "name": name,
        "kind": "grid",
        "note": note,
        "d": int(d),
        "grid": G,
        "box": L,
        "used": int(n),
        "q": Q,
        "xa_q": qa.tolist(),
        "xb_q": qb.tolist(),
        "emd2": cost,
    }


def rings(rng, n, s):
    r = np.concatenate([rng.normal(.65, .1, n // 2), rng.normal(1.4, .1, n - n // 2)]) * s
    th = rng.uniform(0, 2 * np.pi, n)
    return np.c_[r * np.cos(th), r * np.sin(th)]


def main():
    cases = []
    rng = np.random.default_rng(20240611)
    cases.append(emd_case("uniform_7x9", rng.normal(size=(7, 2)), np.ones(7), rng.normal(1, 1, size=(9, 2)),
                          np.ones(9), "tiny, uniform weights, dense path"))
    cases.append(emd_case("weighted_40x55", rng.normal(size=(40, 2)), rng.dirichlet(np.ones(40)),
                          rng.normal(.5, 1.3, size=(55, 2)), rng.dirichlet(np.ones(55) * .5),
                          "non-uniform Dirichlet weights, dense path"))
    cases.append(emd_case("weighted_3d_30x25", rng.normal(size=(30, 3)), rng.uniform(0, 1, 30),
                          rng.normal(.3, 1, size=(25, 3)), rng.uniform(0, 1, 25), "d = 3, unnormalised weights"))
    wa = rng.dirichlet(np.ones(50))
    wa[[3, 17, 29]] = 0.0
    cases.append(emd_case("zero_weights_50x45", rng.normal(size=(50, 2)), wa, rng.normal(size=(45, 2)) * 1.5,
                          rng.dirichlet(np.ones(45)), "some zero weights (dropped from the support)"))
    cases.append(emd_case("assign_60x60", rng.normal(size=(60, 2)), np.ones(60),
                          rng.normal(size=(60, 2)) + [.7, 0], np.ones(60), "assignment, dense path"))
    cases.append(emd_case("uniform_150x220", rng.normal(size=(150, 2)), np.ones(150),
                          rng.normal(size=(220, 2)) * [1.5, .7], np.ones(220),
                          "unequal sizes, uniform, sparse path with pricing"))
    cases.append(emd_case("weighted_300x260", rings(rng, 300, 2.0), rng.dirichlet(np.ones(300)),
                          rings(rng, 260, 2.1), rng.dirichlet(np.ones(260) * 2),
                          "rings, non-uniform weights, sparse path with pricing"))
    cases.append(emd_case("assign_rings_400", rings(rng, 400, 2.0), np.ones(400), rings(rng, 400, 2.1),
                          np.ones(400), "rings as in pot_w2.py, assignment, sparse path"))
    cases.append(emd_case("weighted_1d_40x30", rng.normal(size=(40, 1)), rng.uniform(.1, 1, 40),
                          rng.normal(1, 2, size=(30, 1)), rng.uniform(.1, 1, 30), "d = 1, weighted"))
    cases.append(grid_case("grid_16_box3", rings(rng, 3000, 2.0) * 1.2, rings(rng, 2500, 2.1) * 1.2, 16, 3.0,
                           "2-D grid metric, points outside the box, unequal counts"))
    cases.append(grid_case("grid_32_box4", rings(rng, 8000, 2.0), rings(rng, 8000, 2.1), 32, 4.0,
                           "2-D grid metric, sparse path"))
    cases.append(grid_case("grid_1d_40_box2", rng.normal(0, 1, size=(5000, 1)),
                           rng.normal(.4, .8, size=(4000, 1)), 40, 2.0, "1-D grid metric"))
    os.makedirs(OUT, exist_ok=True)
    for c in cases:
        c["pot_version"] = ot.__version__
        with open(os.path.join(OUT, "pot_" + c["name"] + ".json"), "w") as f:
            json.dump(c, f)
            f.write("\n")
        print(f"{c['name']}: emd2 = {c['emd2']!r}")


if __name__ == "__main__":
    main()
