#!/usr/bin/env python3
"""video-to-y4m.py VIDEO OUT.y4m [MAX_FRAMES]: decode a video with OpenCV (the GPU machine has
python3 with OpenCV but no FFmpeg CLI) and write it as YUV4MPEG2 4:2:0, the stream the vision
core reads (core/vision/gv-y4m.h). OpenCV's BGR->I420 uses BT.601 limited range."""
import sys

try:
    import cv2
except ImportError:
    sys.exit("video-to-y4m: OpenCV (cv2) is not installed")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cap = cv2.VideoCapture(sys.argv[1])
    if not cap.isOpened():
        sys.exit(f"video-to-y4m: cannot open {sys.argv[1]}")
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 1 << 30
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    n = 0
    with open(sys.argv[2], "wb") as out:
        while n < limit:
            ok, bgr = cap.read()
            if not ok:
                break
            h, w = bgr.shape[:2]
            if w % 2 or h % 2:
                bgr = bgr[: h - h % 2, : w - w % 2]
                h, w = bgr.shape[:2]
            if n == 0:
                out.write(f"YUV4MPEG2 W{w} H{h} F{int(round(fps * 1000))}:1000 Ip A1:1 C420jpeg\n"
                          .encode())
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).tobytes())
            n += 1
    print(f"video-to-y4m: {n} frames to {sys.argv[2]}")
    return 0 if n else 1


if __name__ == "__main__":
    sys.exit(main())
