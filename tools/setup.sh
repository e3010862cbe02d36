#!/usr/bin/env bash
# tools/setup.sh: one command to set up GradeVault Inspector on a fresh Debian 12 / Ubuntu 24.04.
#   tools/setup.sh run    install what is missing, build, analyse the bundled sample scan
#   tools/setup.sh test   install what is missing, build with ASan/UBSan, run every test
#   tools/setup.sh deps   only install what is missing
# Runs apt-get only for packages that are not installed yet (needs root or sudo for that).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

pkgs=(meson ninja-build pkg-config gcc libc6-dev
      libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg
      libglib2.0-dev libglib2.0-bin libjson-glib-dev
      libgtk-4-dev libcairo2-dev libsqlite3-dev libcurl4-openssl-dev libsoup-3.0-dev
      python3 python3-numpy python3-opencv
      xvfb xauth poppler-utils desktop-file-utils appstream gettext
      adwaita-icon-theme fonts-dejavu-core)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
[ "$mode" = deps ] && exit 0

# nvcc lives outside PATH in NVIDIA's packages; the CUDA backend builds when it is found.
if [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="$PATH:/usr/local/cuda/bin"; fi

summary() {
  # meson's own summary is not a format CI reads: count from testlog.json.
  python3 - "$1" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    res = r.get("result")
    if res in ("OK", "EXPECTEDFAIL"): passed += 1
    elif res == "SKIP": skipped += 1
    else: failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
}

case "$mode" in
  run)
    [ -d build/meson-private ] || meson setup build --buildtype=release
    ninja -C build
    # With a display: the app on the sample, analysing it at once. Headless: gvscan, and say so.
    if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
      if [ -x build/app/gradevault-inspector ]; then
        exec ./build/app/gradevault-inspector data/sample/scan.mp4
      fi
      echo "setup: this build has no GTK app (GTK 4 was not found); analysing with gvscan instead" >&2
    else
      echo "setup: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the app cannot open;" \
           "analysing the sample with gvscan instead" >&2
    fi
    ./build/app/gvscan analyze data/sample/scan.mp4 --out "${GV_OUT:-gvscan-out}"
    ;;
  test)
    dir=build-test
    [ -d $dir/meson-private ] || meson setup $dir -Db_sanitize=address,undefined -Db_lundef=false
    ninja -C $dir
    status=0
    meson test -C $dir --print-errorlogs --num-processes 2 || status=$?
    summary $dir/meson-logs/testlog.json
    exit $status
    ;;
  *)
    echo "usage: tools/setup.sh run|test|deps" >&2
    exit 2
    ;;
esac
