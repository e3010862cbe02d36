#!/usr/bin/env bash
# tests/device/gvscan-run.sh: on the GPU machine, the packed gvscan (tests/device/gvscan-pack.sh)
# validates CPU vs CUDA end to end on the bundled sample and two synthetic scans, analyses on
# CUDA and benchmarks both backends; results under $OUT (validate*.txt/json, gvscan.log).
OUT=${OUT:-/tmp/gvout}
mkdir -p "$OUT" /tmp/gv
tar -C /tmp/gv -xJf .gvpack/libs.tar.xz || exit 2
[ ! -f .gvpack/extra.tar ] || tar -C /tmp/gv -xf .gvpack/extra.tar || exit 2
export LD_LIBRARY_PATH=/tmp/gv/gvlibs
G=$PWD/.gvpack/gvscan
export XDG_DATA_HOME=/tmp/gv/data XDG_CACHE_HOME=/tmp/gv/cache XDG_CONFIG_HOME=/tmp/gv/config
$G version
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1 | head -1
for s in 3 8; do
  $G synth --seed $s --frames 150 --out /tmp/gv/syn$s >/dev/null 2>&1 || echo "synth $s failed"
done
i=0
status=0
for v in data/sample/scan.mp4 /tmp/gv/syn3/scan.mp4 /tmp/gv/syn8/scan.mp4; do
  i=$((i+1))
  timeout 120 $G validate "$v" --json $OUT/validate$i.json > $OUT/validate$i.txt 2>&1
  rc=$?
  [ $rc -eq 0 ] || status=1
  echo "validate $v: exit $rc"
  grep -E "FAIL|PASS|speed|contract|using|device" $OUT/validate$i.txt | grep -v "  PASS$" | head -12
done
# GPU decoding (NVDEC): is the driver's video library there, and does validate still pass when
# the CUDA run decodes on the GPU and keeps the frames on the device?
echo "NVDEC library: $(ldconfig -p 2>/dev/null | grep -o 'libnvcuvid.so[.0-9]*' | head -1) $(ls /usr/lib/x86_64-linux-gnu/libnvcuvid* /usr/local/nvidia/lib64/libnvcuvid* 2>/dev/null | head -1)"
for v in data/sample/scan.mp4 /tmp/gv/syn3/scan.mp4; do
  i=$((i+1))
  timeout 120 $G validate --gpu-decode "$v" --json $OUT/validate$i.json > $OUT/validate$i.txt 2>&1
  rc=$?
  [ $rc -eq 0 ] || status=1
  echo "validate --gpu-decode $v: exit $rc"
  grep -E "FAIL|PASS|decoding|contract|frames/s|load \+ measure" $OUT/validate$i.txt | grep -v "  PASS$" | head -12
done
timeout 60 $G analyze --backend cuda data/sample/scan.mp4 --out /tmp/gv/res 2>&1 | tail -4
for b in cpu cuda; do
  for d in cpu gpu; do
    [ $b = cpu ] && [ $d = gpu ] && continue
    echo "bench --backend $b --decode $d:"
    timeout 90 $G bench --backend $b --decode $d --repeat 3 /tmp/gv/syn3/scan.mp4 2>&1 | tail -3
  done
done
exit $status
