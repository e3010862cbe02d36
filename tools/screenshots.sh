#!/bin/sh
# tools/screenshots.sh [BUILD_DIR]: regenerates docs/screenshots/ from the running app. Analyses the
# bundled sample twice (so Compare has two results) under Xvfb and writes a PNG of every view
# (gradevault-inspector --screenshots DIR --twice), in English and light style, then in German
# (LANGUAGE=de) and dark style as de-dark-<view>.png. Each run gets a fresh home folder, settings
# backend and run store, so History shows only its own runs. Look at every picture before
# committing them.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
app=$build/app/gradevault-inspector
out=docs/screenshots
[ -x "$app" ] || { echo "screenshots: build the app first ($app is missing)" >&2; exit 1; }
command -v xvfb-run >/dev/null || { echo "screenshots: xvfb-run is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$out"

shoot() { # shoot NAME-PREFIX EXTRA-ENV... -- APP-ARGS...
  prefix=$1; shift
  rm -rf "$tmp/home" "$tmp/shots"
  mkdir -p "$tmp/home"
  env -u XDG_DATA_HOME -u XDG_CACHE_HOME -u XDG_CONFIG_HOME \
      GSETTINGS_BACKEND=memory GDK_BACKEND=x11 GTK_A11Y=none NO_AT_BRIDGE=1 HOME="$tmp/home" "$@" \
    xvfb-run -a -s "-screen 0 1600x1000x24" \
    "$app" --backend cpu --screenshots "$tmp/shots" --twice data/sample/scan.mp4 ${APP_ARGS:-} >/dev/null
  for f in "$tmp"/shots/*.png; do
    cp "$f" "$out/$prefix$(basename "$f")"
    echo "$out/$prefix$(basename "$f")"
  done
}

# German needs a German locale (glibc ignores LANGUAGE under C): the system's, else one made with
# localedef from the system's locale sources into the temporary folder.
de=$(locale -a 2>/dev/null | grep -i -m1 '^de_DE\.utf-\?8$' || true)
locpath=
if [ -z "$de" ] && command -v localedef >/dev/null; then
  mkdir -p "$tmp/locale"
  localedef -i de_DE -f UTF-8 "$tmp/locale/de_DE.UTF-8" 2>/dev/null || true
  [ -f "$tmp/locale/de_DE.UTF-8/LC_MESSAGES/SYS_LC_MESSAGES" ] && { de=de_DE.UTF-8; locpath=$tmp/locale; }
fi
[ -n "$de" ] || { echo "screenshots: no German locale (install locales or localedef): skipping de-dark-*" >&2; exit 0; }

shoot ""
APP_ARGS=--dark shoot de-dark- LANGUAGE=de LC_ALL="$de" ${locpath:+LOCPATH=$locpath}
