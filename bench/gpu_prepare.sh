#!/usr/bin/env bash
# Run HERE (the CPU machine), once, before bench/gpu_check.sh runs on the GPU machine:
#   bench/gpu_prepare.sh [SHARED_DATA]     (default: ../shared/data beside the checkout)
# It fills two git-ignored folders that the device call must carry:
#   .gpu_data/  the evaluation data the tests and the fidelity dump read (DAVIS clip + masks, portraits, ~20 MB)
#   .whl/       the PyAV wheel for the GPU machine's Python 3.12 (~35 MB; sources/sinks import av)
# then prints the device call to make:
#   run(command="bash bench/gpu_check.sh", carry=[".gpu_data", ".whl"], timeout_s=600)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data}"
[ -f "$DATA/README.md" ] || { echo "gpu_prepare: no evaluation data at $DATA" >&2; exit 2; }
EXCLUDE="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$EXCLUDE")"
for path in /.gpu_data/ /.whl/; do grep -qxF "$path" "$EXCLUDE" 2>/dev/null || echo "$path" >> "$EXCLUDE"; done
rm -rf .gpu_data && mkdir -p .gpu_data
cp "$DATA/README.md" .gpu_data/
cp -r "$DATA/davis" "$DATA/portraits" "$DATA/multiperson" .gpu_data/
AV_VERSION="$(python3 -c 'import av; print(av.__version__)' 2>/dev/null || echo '')"
mkdir -p .whl
if ! ls .whl/av-*.whl >/dev/null 2>&1; then
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 -d .whl "av${AV_VERSION:+==$AV_VERSION}"
fi
du -sh .gpu_data .whl
echo 'now: run(command="bash bench/gpu_check.sh", carry=[".gpu_data", ".whl"], timeout_s=600)'
