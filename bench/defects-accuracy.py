#!/usr/bin/python3
"""Scores gvscan's defects, regions and grade against synthetic ground truth, and the production
worker's defect formula (seed-system.md, step 5 and 6; reimplemented here only, for comparison)
on the same warped golden covers. Usage: bench/defects-accuracy.py DIR (from defects-accuracy.sh);
env BENCH_DETAIL=1 lists each severe instance (share of its pixels found) and our defects.

Truth: DIR/<scan>/defect_labels.png (0 clean, 1 + type) and truth.json. Ours: out/result.json,
out/defect_mask.png. The worker: its formula on out/cover_*.png (the canonical warps).
"""
import glob
import json
import os
import sys

import cv2
import numpy as np

TYPES = ["crease", "corner_wear", "edge_chip", "tear", "stain", "scratch", "spine_stress"]
REGIONS = [("corner_tl", 0, 0, .12, .12), ("corner_tr", .88, 0, 1, .12),
           ("corner_bl", 0, .88, .12, 1), ("corner_br", .88, .88, 1, 1),
           ("spine", 0, .12, .08, .88), ("surface", .12, .12, .88, .88)]
CGC = [10.0, 9.8, 9.6, 9.4, 9.2, 9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0, 5.5, 5.0, 4.5, 4.0, 3.5,
       3.0, 2.5, 2.0, 1.8, 1.5, 1.0, 0.5]  # the worker's scale (it forgot 9.9)


def region_slices(w, h):
    return [(n, slice(int(np.ceil(y0 * h)), int(np.ceil(y1 * h))),
             slice(int(np.ceil(x0 * w)), int(np.ceil(x1 * w)))) for n, x0, y0, x1, y1 in REGIONS]


def worker(covers):
    """seed-system.md step 5: per-frame score map of edges, |Laplacian|, Sobel, local std, each
    normalised by its own maximum; max over frames; 0.75 map + 0.25 normalised variance;
    mask = map > mean + 0.3 std; 2x2 closing. Step 6: regions and damage score."""
    maps, grays = [], []
    for c in covers:
        g = cv2.cvtColor(c, cv2.COLOR_BGR2GRAY)
        grays.append(g.astype(np.float32))
        e = (cv2.Canny(g, 30, 100).astype(np.float32) + cv2.Canny(g, 50, 150) + cv2.Canny(g, 100, 200)) / (3 * 255)
        lap = np.abs(cv2.Laplacian(g, cv2.CV_64F))
        gx, gy = cv2.Sobel(g, cv2.CV_64F, 1, 0), cv2.Sobel(g, cv2.CV_64F, 0, 1)
        sob = np.hypot(gx, gy)
        gf = g.astype(np.float64)
        mu = cv2.blur(gf, (5, 5))
        std = np.sqrt(np.maximum(cv2.blur(gf * gf, (5, 5)) - mu * mu, 0))
        nz = lambda a: a / a.max() if a.max() > 0 else a
        maps.append(0.45 * nz(e) + 0.25 * nz(lap) + 0.20 * nz(sob) + 0.10 * nz(std))
    m = np.max(maps, axis=0)
    var = np.var(np.stack(grays), axis=0)
    var = var / var.max() if var.max() > 0 else var
    m = 0.75 * m + 0.25 * var
    mask = (m > m.mean() + 0.3 * m.std()).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((2, 2), np.uint8))
    edges = cv2.Canny(cv2.cvtColor(covers[0], cv2.COLOR_BGR2GRAY), 50, 150) > 0
    h, w = mask.shape
    scores = {}
    for n, ys, xs in region_slices(w, h):
        cov = 100 * mask[ys, xs].mean()
        q = min(100, 0.4 * cov + 0.3 * m[ys, xs].mean() * 100 + 0.3 * 100 * edges[ys, xs].mean())
        scores[n] = q
    damage = sum((0.15 if n.startswith("corner") else 0.20) * q for n, q in scores.items())
    # "later versions": region weights spine 1.5, corners 1.2, surface 1.0, rounded down to CGC
    # (our reading: 10 - weighted mean quality score / 10)
    wts = {n: 1.5 if n == "spine" else 1.2 if n.startswith("corner") else 1.0 for n in scores}
    wq = sum(wts[n] * scores[n] for n in scores) / sum(wts.values())
    pts = 10 - wq / 10
    grade = next((g for g in CGC if g <= pts + 1e-9), 0.5)
    return mask > 0, scores, damage, grade


def rank(a):
    a = np.asarray(a, float)
    order = a.argsort(kind="stable")
    r = np.empty(len(a))
    r[order] = np.arange(len(a))
    for v in np.unique(a):  # average ties
        idx = a == v
        r[idx] = r[idx].mean()
    return r


def spearman(a, b):
    ra, rb = rank(a), rank(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def main(d):
    rows = {"ours": {}, "worker": {}}
    acc = {k: {"clean_fp": [], "inter": 0, "union": 0, "big": 0, "found": 0, "typed": 0,
               "rs": [], "rt": [], "grades": {}} for k in rows}
    no_cover = []
    by_type = {}  # ours: type -> [severe instances, found, found with the right type]
    for sd in sorted(glob.glob(os.path.join(d, "*"))):
        name = os.path.basename(sd)
        res_p = os.path.join(sd, "out", "result.json")
        if not os.path.exists(res_p):
            continue
        res = json.load(open(res_p))
        truth = json.load(open(os.path.join(sd, "truth.json")))
        labels = cv2.imread(os.path.join(sd, "defect_labels.png"), cv2.IMREAD_UNCHANGED)
        covers = [cv2.imread(os.path.join(sd, "out", g["cover"]["warped"]))
                  for g in res.get("golden_frames", []) if g["cover"].get("warped")]
        if not covers or not os.path.exists(os.path.join(sd, "out", "defect_mask.png")):
            no_cover.append(name)
            continue
        h, w = labels.shape
        tm = labels > 0
        ours = cv2.imread(os.path.join(sd, "out", "defect_mask.png"), cv2.IMREAD_GRAYSCALE) > 0
        wm, wscores, wdamage, wgrade = worker(covers)
        out = {"ours": (ours, res.get("regionScores", {}), res.get("damageScore"),
                        (res.get("grade") or {}).get("estimate")),
               "worker": (wm, wscores, wdamage, wgrade)}
        for k, (m, scores, dmg, grade) in out.items():
            a = acc[k]
            if name.startswith("mono"):
                a["grades"][int(name.split("_")[1])] = grade
                continue
            if name.startswith("clean"):
                a["clean_fp"].append(100 * m.mean())
            else:
                a["inter"] += int((m & tm).sum())
                a["union"] += int((m | tm).sum())
                for t in truth["defects"]:
                    if t["severity"] < 0.5:
                        continue
                    x, y, bw, bh = t["bbox"]
                    inst = labels[y:y + bh, x:x + bw] == t["label"]
                    hit = m[y:y + bh, x:x + bw][inst].mean() >= 0.10 if inst.any() else False
                    a["big"] += 1
                    a["found"] += int(hit)
                    if k == "ours" and hit:
                        typed = any(e["type"] == t["type"] and e["bbox"][0] <= x + bw + 4
                                    and x <= e["bbox"][0] + e["bbox"][2] + 4
                                    and e["bbox"][1] <= y + bh + 4 and y <= e["bbox"][1] + e["bbox"][3] + 4
                                    for e in res["defects"]["list"])
                        a["typed"] += int(typed)
                    if k == "ours":
                        bt = by_type.setdefault(t["type"], [0, 0, 0])
                        bt[0] += 1
                        bt[1] += int(hit)
                        bt[2] += int(hit and typed)
                    if k == "ours" and os.environ.get("BENCH_DETAIL"):
                        print("%s: %s %.2f box %s: %s" % (
                            name, t["type"], t["severity"], t["bbox"],
                            ("%.0f %% found" % (100 * m[y:y + bh, x:x + bw][inst].mean())) if inst.any() else "-"),
                            "typed" if hit and typed else "")
                if k == "ours" and os.environ.get("BENCH_DETAIL"):
                    for e in res["defects"]["list"]:
                        print("   ours %s %.2f box %s" % (e["type"], e["severity"], e["bbox"]))
                for n, ys, xs in region_slices(w, h):
                    a["rs"].append(scores.get(n, 0.0))
                    a["rt"].append(100 * tm[ys, xs].mean())
    print("| measure | ours | worker |")
    print("|---|---|---|")
    o, k = acc["ours"], acc["worker"]
    f = lambda v: "%.3f" % v if isinstance(v, float) else str(v)
    print("| clean covers: flagged area, mean %% (max) | %.3f (%.3f) | %.1f (%.1f) |" % (
        np.mean(o["clean_fp"]), np.max(o["clean_fp"]), np.mean(k["clean_fp"]), np.max(k["clean_fp"])))
    print("| defect pixels: IoU over the damaged set | %.3f | %.3f |" % (
        o["inter"] / max(o["union"], 1), k["inter"] / max(k["union"], 1)))
    print("| severity >= 0.5 instances found (>= 10 %% of their pixels) | %d/%d | %d/%d |" % (
        o["found"], o["big"], k["found"], k["big"]))
    print("| ... found with the right type | %d/%d | n/a (no types) |" % (o["typed"], o["big"]))
    print("| region score vs true region damage, Spearman | %s | %s |" % (
        f(spearman(o["rs"], o["rt"])), f(spearman(k["rs"], k["rt"]))))
    print("| grade, same cover with 0/2/4/7 defects | %s | %s |" % (
        " / ".join(str(o["grades"].get(n)) for n in (0, 2, 4, 7)),
        " / ".join(str(k["grades"].get(n)) for n in (0, 2, 4, 7))))
    print("| by type (ours): found / right type / severe instances | %s | |" % ", ".join(
        "%s %d/%d/%d" % (t, v[1], v[2], v[0]) for t, v in sorted(by_type.items())))
    if no_cover:
        print("\nno cover found (not scored): " + ", ".join(no_cover))


if __name__ == "__main__":
    main(sys.argv[1])
