#!/usr/bin/env bash
# tests/device/run.sh: the CUDA backend's checks on the lent GPU machine, in one go (< 4 min).
# That machine has nvcc, cmake, ninja and python3 with meson, but no GTK, GLib or FFmpeg and no
# network, so this builds only the GLib-free vision core and the CUDA backend, renders its own
# test frames (gv-synth), runs the parity suite (CPU vs CUDA per kernel chain and whole
# pipelines, after the CPU emulation of the same launches) and the benchmark (CPU on all cores
# vs GPU, 1080p, default analysis size), and writes everything under $OUT:
#   summary.txt  device, build, parity verdict, benchmark headline
#   parity.txt   per-output tables      bench.txt  per-stage timings      build.log
# Exit status: 0 parity passed (or no device: CPU part only, says so), 1 parity failed,
# 2 the build failed. Run from the repository root: tests/device/run.sh
# Environment: OUT (default ./device-out), GV_CUDA_ARCH (default 90), BENCH_SECONDS (default 10),
# GV_Y4M (a .y4m for the whole-pipeline parity; default: data/sample/scan.mp4 through OpenCV).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
BUILD=${GV_DEVICE_BUILD:-build-device}
ARCH=${GV_CUDA_ARCH:-90}
BENCH_SECONDS=${BENCH_SECONDS:-10}
export PATH="$PATH:/usr/local/cuda/bin"
start=$(date +%s)
summary="$OUT/summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }

# the commit: GV_COMMIT when set (the device tool's copy of a tree can carry an older .git than
# its files), else this tree's own git (+ "dirty" with uncommitted changes), else unknown
if [ -n "${GV_COMMIT:-}" ]; then commit=$GV_COMMIT
elif [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$PWD" ]; then
  commit=$(git rev-parse --short HEAD)
  git diff --quiet HEAD 2>/dev/null || commit="$commit (dirty)"
else commit=unknown; fi
note "GradeVault Inspector device run, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $commit"
if command -v nvidia-smi >/dev/null 2>&1; then
  note "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 | head -1)"
else
  note "nvidia-smi: not found"
fi
note "nproc: $(nproc)"

if command -v meson >/dev/null 2>&1; then MESON=(meson); else MESON=(python3 -m mesonbuild.mesonmain); fi
cuda_opt=auto
if command -v nvcc >/dev/null 2>&1; then
  cuda_opt=enabled
  note "nvcc: $(nvcc --version | tail -1)"
else
  note "nvcc: not found; building the CPU part only"
fi

# The vision core + CUDA backend with only libc/libm/pthreads and the CUDA toolkit.
if [ ! -d "$BUILD/meson-private" ]; then
  "${MESON[@]}" setup "$BUILD" --buildtype=release -Dglib=disabled -Dmedia=disabled \
    -Dcuda=$cuda_opt -Dgv_cuda_arch="$ARCH" >"$OUT/build.log" 2>&1 || {
      note "BUILD FAILED (meson setup), see build.log"; tail -30 "$OUT/build.log"; exit 2; }
fi
ninja -C "$BUILD" tests/gv-device-parity tests/gv-device-bench >>"$OUT/build.log" 2>&1 || {
  note "BUILD FAILED (ninja), see build.log"; tail -40 "$OUT/build.log"; exit 2; }
note "build: $(( $(date +%s) - start )) s ($BUILD, -Dcuda=$cuda_opt, sm_$ARCH)"

# A real-looking scan for the whole-pipeline parity: the bundled sample decoded by OpenCV (no
# FFmpeg there) into Y4M; GV_Y4M names another .y4m instead.
y4m=(); y4m_file=${GV_Y4M:-}
if [ -z "$y4m_file" ] && [ -f data/sample/scan.mp4 ] && python3 -c 'import cv2' 2>/dev/null; then
  y4m_file="$BUILD/scan.y4m"
  [ -s "$y4m_file" ] || python3 tests/device/video-to-y4m.py data/sample/scan.mp4 "$y4m_file" 120 \
    >>"$OUT/build.log" 2>&1 || y4m_file=""
fi
if [ -n "$y4m_file" ]; then y4m=(--y4m "$y4m_file"); note "real-looking scan: $y4m_file"
else note "real-looking scan: none (no OpenCV or no data/sample/scan.mp4); synthetic only"; fi

# Parity: CPU vs emulated launches, then CPU vs CUDA (skips with 77 when there is no device).
timeout 150 "$BUILD/tests/gv-device-parity" "${y4m[@]}" --summary "$OUT/parity.txt"
prc=$?
case $prc in
  0) note "parity: PASS (every output within the contract; see parity.txt)" ;;
  77) note "parity: CPU part PASS; GPU part SKIPPED: $(grep -m1 'no CUDA device' "$OUT/parity.txt")" ;;
  124) note "parity: TIMED OUT after 150 s" ;;
  *) note "parity: FAIL (exit $prc); outputs outside the contract:"
     grep -E 'FAIL|ERROR' "$OUT/parity.txt" | tee -a "$summary" ;;
esac

# Benchmark: CPU (all cores) and GPU, 1080p, default analysis size.
timeout 120 "$BUILD/tests/gv-device-bench" --seconds "$BENCH_SECONDS" --summary "$OUT/bench.txt" >/dev/null
brc=$?
if [ $brc -eq 0 ]; then
  note "benchmark:"
  grep -E 'frame analysis|device|speed-up|two halves|target|GPU:|CUDA: skipped' "$OUT/bench.txt" | tee -a "$summary"
else
  note "benchmark: failed or timed out (exit $brc)"
fi
# Optional (GV_SANITIZE=1): compute-sanitizer memcheck and racecheck over the quick parity set
# (out-of-bounds or misaligned accesses, shared-memory races in the kernels).
if [ "${GV_SANITIZE:-0}" = 1 ] && command -v compute-sanitizer >/dev/null 2>&1; then
  for tool in ${GV_SANITIZE_TOOLS:-memcheck racecheck}; do
    timeout ${GV_SANITIZE_TIMEOUT:-200} compute-sanitizer --tool $tool --error-exitcode 9 \
      "$BUILD/tests/gv-device-parity" --quick >"$OUT/$tool.txt" 2>&1
    src=$?
    note "compute-sanitizer $tool (gv-device-parity --quick): exit $src; $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/$tool.txt" | tail -1)"
  done
fi
note "total: $(( $(date +%s) - start )) s"

case $prc in
  0|77) exit 0 ;;
  *) exit 1 ;;
esac
