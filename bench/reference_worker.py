#!/usr/bin/python3
"""The production worker's frame analysis, re-created as a timing and accuracy reference.

What cv_worker.py does per frame (seed-system.md): gray = BGR->gray; sharpness =
cv2.Laplacian(gray, CV_64F).var() on the full frame; motion = mean magnitude of
cv2.calcOpticalFlowFarneback(prev, gray, None, 0.5, 3, 15, 3, 5, 1.2, 0) at full resolution.
Run with Debian's python3-opencv: /usr/bin/python3 bench/reference_worker.py VIDEO OUT.json
"""
import json
import sys
import time

import cv2
import numpy as np


def main():
    video, out = sys.argv[1], sys.argv[2]
    scale = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    cap = cv2.VideoCapture(video)
    if not cap.isOpened():
        sys.exit(f"{video}: cannot open")
    t0 = time.monotonic()
    prev = None
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        sharp = float(cv2.Laplacian(gray, cv2.CV_64F).var())
        small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale,
                                                     interpolation=cv2.INTER_AREA)
        motion = None
        if prev is not None:
            flow = cv2.calcOpticalFlowFarneback(prev, small, None, 0.5, 3, 15, 3, 5, 1.2, 0)
            motion = float(np.mean(np.hypot(flow[..., 0], flow[..., 1]))) / scale
        frames.append({"sharpness": sharp, "motion": motion})
        prev = small
    elapsed = time.monotonic() - t0
    json.dump({"seconds": elapsed, "frames": frames, "opencv": cv2.__version__,
               "scale": scale}, open(out, "w"), indent=1)
    print(f"reference: {len(frames)} frames in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
