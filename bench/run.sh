#!/usr/bin/env bash
# bench/run.sh: times, on one synthetic 1080p30 scan in one run,
#   (a) FFmpeg decoding alone (the floor): gvscan bench --decode-only
#   (b) the production worker's frame analysis in Python with Debian's python3-opencv
#       (full-resolution Farneback with its parameters + Laplacian variance)
#   (c) gvscan analyze at several analysis sizes
# and measures motion accuracy and golden-frame quality against the ground truth.
# Usage: bench/run.sh [BUILD_DIR] [FRAMES]      (SKIP_REFERENCE=1 skips (b), which takes minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
frames=${2:-420}
dir=${BENCH_DIR:-/tmp/gv-bench-$frames}
if [ ! -x "$build/app/gvscan" ]; then
  meson setup "$build" --buildtype=release >/dev/null
fi
ninja -C "$build" >/dev/null
gvscan=$build/app/gvscan
if [ ! -f "$dir/scan.mp4" ]; then
  echo "rendering a ${frames}-frame 1080p scan into $dir ..."
  "$gvscan" synth --out "$dir" --seed 7 --frames "$frames" --crf 18 --quiet
fi
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== (a) decoding alone"
"$gvscan" bench "$dir/scan.mp4" --decode-only --repeat 3 | tee "$dir/decode.txt"
echo "== (c) gvscan analyze"
for size in ${SIZES:-320 480 640 960 0}; do
  /usr/bin/time -f "%e s wall, %U s user" "$gvscan" analyze "$dir/scan.mp4" --analysis-size "$size" \
      --out "$dir/out-$size" --quiet 2> "$dir/time-$size.txt"
  echo "analysis-size $size: $(tail -1 "$dir/time-$size.txt")"
done
if [ "${SKIP_REFERENCE:-0}" != 1 ]; then
  echo "== (b) reference worker (python3-opencv, full resolution)"
  /usr/bin/time -f "%e s wall, %U s user" /usr/bin/python3 bench/reference_worker.py \
      "$dir/scan.mp4" "$dir/reference.json" 2> "$dir/time-reference.txt"
  tail -1 "$dir/time-reference.txt"
fi
/usr/bin/python3 bench/accuracy.py "$dir"
