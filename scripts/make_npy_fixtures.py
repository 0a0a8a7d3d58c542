#!/usr/bin/python3
"""Small .npy files for tests/core/test_npy.cpp, written by numpy itself.

Run with Debian's interpreter, which has numpy:
    /usr/bin/python3 scripts/make_npy_fixtures.py
It rewrites tests/fixtures/npy/*.npy. The values are fixed (no randomness), so the test
states them exactly: row i is (0.5 * i - 1, 0.25 * i) for i in 0..4 (d = 2) and the
first column alone for the (n,) and (n, 1) shapes.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "npy")

i = np.arange(5)
pts = np.stack([0.5 * i - 1, 0.25 * i], axis=1)

os.makedirs(OUT, exist_ok=True)
for dtype, tag in ((np.float32, "f4"), (np.float64, "f8")):
    np.save(os.path.join(OUT, f"c_{tag}.npy"), np.ascontiguousarray(pts.astype(dtype)))
    np.save(os.path.join(OUT, f"fortran_{tag}.npy"), np.asfortranarray(pts.astype(dtype)))
np.save(os.path.join(OUT, "vector_f8.npy"), pts[:, 0].copy())
np.save(os.path.join(OUT, "column_f4.npy"), pts[:, :1].astype(np.float32))
# Version 2.0 headers (4-byte length), as numpy writes for very wide structured dtypes.
with open(os.path.join(OUT, "v2_f4.npy"), "wb") as f:
    np.lib.format.write_array(f, pts.astype(np.float32), version=(2, 0))
# What the reader must refuse: integers, big-endian floats and three dimensions.
np.save(os.path.join(OUT, "bad_int64.npy"), np.arange(10, dtype=np.int64).reshape(5, 2))
np.save(os.path.join(OUT, "bad_bigendian.npy"), pts.astype(">f8"))
np.save(os.path.join(OUT, "bad_3d.npy"), np.zeros((2, 2, 2), dtype=np.float32))
