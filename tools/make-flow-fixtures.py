#!/usr/bin/python3
"""Build the optical-flow fixtures in tests/data/flow/.

Run with Debian's python3 (python3-opencv 4.6 and numpy installed there):

    /usr/bin/python3 tools/make-flow-fixtures.py [outdir]

(the default outdir is tests/data/flow next to this script's parent). Everything is
deterministic: the texture is an analytic sum of sinusoids with seeded parameters, each pair's
second image is that texture sampled through a known affine map, so the ground-truth flow is
exact. For each pair it writes:
  <name>-0.pgm, <name>-1.pgm   8-bit input frames (160x128)
  <name>-opencv.flo            cv2.calcOpticalFlowFarneback(prev, next, None,
                               0.5, 3, 15, 3, 5, 1.2, 0) in Middlebury .flo format
and manifest.txt, one line per pair:
  name a00 a01 a02 a10 a11 a12 opencv_epe
where a point p of the first frame moves to A p + t (A = [a00 a01; a10 a11], t = [a02 a12])
in the second (ground-truth flow = A p + t - p) and opencv_epe is OpenCV's mean end-point error
against that ground truth over the pixels at least EPE_MARGIN px from the border.
"""
import os
import sys

import cv2
import numpy as np

W, H = 160, 128
EPE_MARGIN = 8
PARAMS = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0)


def texture(seed, contrast):
    """Analytic texture T(x, y): sum of sinusoids (wavelengths 5..40 px) mapped to 8-bit."""
    rng = np.random.default_rng(seed)
    n = 24
    freq = rng.uniform(2 * np.pi / 40, 2 * np.pi / 5, n)
    ang = rng.uniform(0, np.pi, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    amp = rng.uniform(0.5, 1.0, n)
    kx, ky = freq * np.cos(ang), freq * np.sin(ang)
    norm = amp.sum() * 0.45

    def T(x, y):
        v = np.zeros_like(x, dtype=np.float64)
        for i in range(n):
            v += amp[i] * np.sin(kx[i] * x + ky[i] * y + phase[i])
        return 128.0 + contrast * v / norm

    return T


def render(T, A, t):
    """Frames (prev, next) with next(A p + t) = prev(p), i.e. next(q) = T(A^-1 (q - t))."""
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    prev = T(xs, ys)
    Ai = np.linalg.inv(A)
    qx, qy = xs - t[0], ys - t[1]
    sx = Ai[0, 0] * qx + Ai[0, 1] * qy
    sy = Ai[1, 0] * qx + Ai[1, 1] * qy
    nxt = T(sx, sy)
    q = lambda im: np.clip(np.rint(im), 0, 255).astype(np.uint8)
    return q(prev), q(nxt)


def gt_flow(A, t):
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    fx = A[0, 0] * xs + A[0, 1] * ys + t[0] - xs
    fy = A[1, 0] * xs + A[1, 1] * ys + t[1] - ys
    return np.dstack([fx, fy])


def write_flo(path, flow):
    h, w = flow.shape[:2]
    with open(path, "wb") as f:
        np.array([202021.25], np.float32).tofile(f)
        np.array([w, h], np.int32).tofile(f)
        flow.astype(np.float32).tofile(f)


def rot_zoom(deg, zoom, cx, cy, shift=(0.0, 0.0)):
    a = np.deg2rad(deg)
    A = zoom * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = np.array([cx, cy])
    t = c - A @ c + np.array(shift)
    return A, t


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "data", "flow")
    os.makedirs(outdir, exist_ok=True)
    cv2.setNumThreads(1)
    I2 = np.eye(2)
    pairs = [
        ("subpixel", texture(1, 100.0), I2, np.array([1.3, -0.7])),
        ("affine", texture(2, 100.0), *rot_zoom(3.0, 1.03, W / 2 - 0.5, H / 2 - 0.5, (0.4, 0.2))),
        ("large", texture(3, 100.0), I2, np.array([6.0, 3.5])),
        ("lowcontrast", texture(4, 10.0), I2, np.array([0.6, 0.4])),
    ]
    lines = ["# name a00 a01 a02 a10 a11 a12 opencv_epe (made by tools/make-flow-fixtures.py, "
             "OpenCV %s, EPE over pixels >= %d px from the border)" % (cv2.__version__, EPE_MARGIN)]
    m = EPE_MARGIN
    for name, T, A, t in pairs:
        prev, nxt = render(T, A, t)
        cv2.imwrite(os.path.join(outdir, name + "-0.pgm"), prev)
        cv2.imwrite(os.path.join(outdir, name + "-1.pgm"), nxt)
        flow = cv2.calcOpticalFlowFarneback(prev, nxt, None, **PARAMS)
        write_flo(os.path.join(outdir, name + "-opencv.flo"), flow)
        d = flow.astype(np.float64) - gt_flow(A, t)
        epe = np.sqrt((d ** 2).sum(axis=2))[m:H - m, m:W - m].mean()
        lines.append("%s %.9f %.9f %.9f %.9f %.9f %.9f %.6f" % (
            name, A[0, 0], A[0, 1], t[0], A[1, 0], A[1, 1], t[1], epe))
        print(lines[-1])
    with open(os.path.join(outdir, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
