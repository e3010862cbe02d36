#!/usr/bin/python3
"""Accuracy of motion and golden frames against a synthetic scan's ground truth.

For gvscan results (out-*/result.json) and the Python reference (reference.json): mean absolute
error of the motion measure against the true mean flow (over the cover and over the frame), the
share of frames passing the 1 px gate that truly move < 1 px, and whether the golden frames
(for the reference: the worker's selection, whole-frame sharpness and motion) are truly sharp and
still. Usage: bench/accuracy.py DIR
"""
import glob
import json
import os
import sys


def worker_golden(sharp, motion, gate=1.0, n=5, gap=15):
    cand = [i for i, m in enumerate(motion) if m is not None and m <= gate]
    cand.sort(key=lambda i: (-sharp[i], i))
    picks = []
    for i in cand:
        if len(picks) == n:
            break
        if all(abs(i - p) >= gap for p in picks):
            picks.append(i)
    return sorted(picks)


def report(name, motion, truth, golden, seconds, gate_motion=None):
    gate_motion = gate_motion or motion
    tf = [f["true_flow_cover"] for f in truth]
    pairs = [(m, t) for m, t in zip(motion[1:], tf[1:]) if m is not None and m >= 0]
    mae = sum(abs(m - t) for m, t in pairs) / max(1, len(pairs))
    slow = [(m, t) for m, t in pairs if t < 3.0]
    mae_slow = sum(abs(m - t) for m, t in slow) / max(1, len(slow))
    gated = [i for i, m in enumerate(gate_motion) if m is not None and 0 <= m <= 1.0]
    truly = sum(1 for i in gated if tf[i] < 1.0)
    still = sum(1 for t in tf if t < 1.0)
    good = sum(1 for i in golden if truth[i]["sharp"] and tf[i] < 1.0)
    print(f"{name:>22}: {seconds:8.2f} s | cover-flow MAE all {mae:6.3f} px, true<3px {mae_slow:5.3f} px"
          f" | 1px gate: {len(gated)} pass, precision {truly / max(1, len(gated)):.3f},"
          f" recall {truly / max(1, still):.3f} | golden sharp+still {good}/{len(golden)} {golden}")


def main():
    d = sys.argv[1]
    truth = json.load(open(os.path.join(d, "truth.json")))["frames"]
    print(f"frames: {len(truth)}, truly still (< 1 px on the cover): "
          f"{sum(1 for f in truth if f['true_flow_cover'] < 1.0)}, sharp: "
          f"{sum(1 for f in truth if f['sharp'])}")
    for path in sorted(glob.glob(os.path.join(d, "out-*", "result.json"))):
        r = json.load(open(path))
        size = os.path.basename(os.path.dirname(path))[4:]
        motion = [f["motion"] for f in r["frames"]]
        # What our gate tested: the larger of the flows to and from the frame.
        gate = [f["motion_gate"] if f["measured"] else None for f in r["frames"]]
        golden = [g["index"] for g in r["golden_frames"]]
        report(f"gvscan size {size}", motion, truth, golden, r["timings"]["total"], gate)
        frame_motion = [f["motion_frame"] for f in r["frames"]]
        tff = [f["true_flow_frame"] for f in truth]
        pairs = [(m, t) for m, t in zip(frame_motion[1:], tff[1:]) if m is not None and m >= 0]
        print(f"{'':>22}  whole-frame motion MAE vs true frame flow "
              f"{sum(abs(m - t) for m, t in pairs) / max(1, len(pairs)):6.3f} px")
    ref = os.path.join(d, "reference.json")
    if os.path.exists(ref):
        r = json.load(open(ref))
        motion = [f["motion"] for f in r["frames"]]
        sharp = [f["sharpness"] for f in r["frames"]]
        # The worker gave unmeasured frames motion 0; reproduce that for its gate.
        wm = [0.0 if m is None else m for m in motion]
        report("reference (worker)", wm, truth, worker_golden(sharp, wm), r["seconds"])
        tff = [f["true_flow_frame"] for f in truth]
        pairs = [(m, t) for m, t in zip(motion[1:], tff[1:]) if m is not None]
        print(f"{'':>22}  whole-frame motion MAE vs true frame flow "
              f"{sum(abs(m - t) for m, t in pairs) / max(1, len(pairs)):6.3f} px")


if __name__ == "__main__":
    main()
