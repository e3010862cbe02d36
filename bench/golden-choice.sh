#!/usr/bin/env bash
# bench/golden-choice.sh: which measure picks better golden frames on ground truth:
# sharpness and motion on the detected cover (cover-roi, the default) or on the whole frame
# (the production worker's choice)? Renders several synthetic scans, analyses each both ways and
# reports, per choice, how many golden frames are truly sharp and still, and the true motion blur,
# defocus and flow of the picks. Usage: bench/golden-choice.sh [BUILD_DIR] [SEEDS...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
shift || true
seeds=${*:-1 2 3 4 5 6}
dir=${BENCH_DIR:-/tmp/gv-golden-choice}
[ -x "$build/app/gvscan" ] || meson setup "$build" --buildtype=release >/dev/null
ninja -C "$build" >/dev/null
for s in $seeds; do
  d=$dir/seed$s
  [ -f "$d/scan.mp4" ] || "$build/app/gvscan" synth --out "$d" --seed "$s" --frames 150 \
      --width 1280 --height 720 --cover-fill "0.$((4 + s % 5))" --quiet
  "$build/app/gvscan" analyze "$d/scan.mp4" --out "$d/roi" --quiet
  "$build/app/gvscan" analyze "$d/scan.mp4" --out "$d/frame" --set cover-roi=false --quiet
done
/usr/bin/python3 - "$dir" $seeds <<'PY'
import json, sys
d, seeds = sys.argv[1], sys.argv[2:]
for choice in ("roi", "frame"):
    good = n = 0
    blur = defocus = flow = 0.0
    for s in seeds:
        truth = json.load(open(f"{d}/seed{s}/truth.json"))["frames"]
        r = json.load(open(f"{d}/seed{s}/{choice}/result.json"))
        for g in r["golden_frames"]:
            t = truth[g["index"]]
            n += 1
            good += t["sharp"] and t["true_flow_cover"] < 1.0
            blur += t["motion_blur_px"]; defocus += t["defocus_sigma"]; flow += t["true_flow_cover"]
    print(f"{choice:>6}: {good}/{n} golden frames truly sharp and still; mean true blur "
          f"{blur / max(1, n):.3f} px, defocus sigma {defocus / max(1, n):.3f} px, "
          f"flow on the cover {flow / max(1, n):.3f} px")
PY
