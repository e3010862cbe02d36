#!/usr/bin/env bash
# tests/device/gvscan-pack.sh: packs gvscan (built here, with the CUDA backend) and the shared
# libraries it needs that the GPU machine lacks (GLib, FFmpeg, SQLite, libcurl... everything but
# glibc) into .gvpack/ (ignored; ~55 MB), so that the real `gvscan validate` can run there:
#   tests/device/gvscan-pack.sh [BUILD_DIR]     then, through the device tool,
#   run: OUT=$OUT bash tests/device/gvscan-run.sh   with carry [".gvpack"]
# The working tree plus the pack must stay under the tool's 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build-release}
export PATH="$PATH:/usr/local/cuda/bin"
[ -d "$B/meson-private" ] || meson setup "$B" --buildtype=release -Dcuda=enabled
ninja -C "$B" app/gvscan
grep -q '^/.gvpack/' .git/info/exclude 2>/dev/null || echo '/.gvpack/' >> .git/info/exclude
rm -rf .gvpack && mkdir -p .gvpack
tmp=$(mktemp -d)
mkdir "$tmp/gvlibs"
cp "$B/app/gvscan" .gvpack/
# every library but glibc's own (libc, libm, libpthread, libdl, librt, the loader)
ldd "$B/app/gvscan" | awk '$3 ~ /^\// {print $3}' \
  | grep -v -E '/(libc|libm|libpthread|libdl|librt)\.so\.[0-9]+$|/ld-linux' \
  | xargs -I{} cp -L {} "$tmp/gvlibs/"
tar -C "$tmp" -cf - gvlibs | xz -T0 -6 > .gvpack/libs.tar.xz
rm -rf "$tmp"
du -sh .gvpack
