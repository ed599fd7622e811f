#!/usr/bin/env bash
# The GPU checks of issue #12 in ONE device call (prepare first with bench/gpu_prepare.sh):
#   run(command="bash bench/gpu_check.sh", carry=[".gpu_data", ".whl"], timeout_s=600)
# On the GPU machine (Python 3.12, torch, onnxruntime, OpenCV; no PySide6) it writes to $OUT:
#   env.txt                 GPU, driver, versions
#   cuda_tests.txt          pytest -m cuda (fidelity bars, graphs, DevicePipeline vs the CPU pipeline)
#   precision.txt + fidelity.json   scripts/precision_probe.py: every variant x precision vs the CPU
#                           path and MediaPipe, the network's time, the precision to choose
#   bench_segmenter.txt     network (graph batch 1/8, eager) and segment() 720p/1080p per precision
#   bench_device_pipeline.txt   make_pipeline at 1920x1080: FPS per mode, CPU ms per frame, stages
#   suite.txt               the non-GUI test suite
# Each step has its own time limit so the whole stays under the 10-minute command limit.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/gpu_check_out}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD" SILHOUETTE_CAM_DATA="$PWD/.gpu_data" QT_QPA_PLATFORM=offscreen PYTHONUNBUFFERED=1
if ls .whl/av-*.whl >/dev/null 2>&1 && ! python -c "import av" 2>/dev/null; then
  python -m pip install -q --no-index --no-deps .whl/av-*.whl >"$OUT/pip.txt" 2>&1
fi
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python -c "import sys, torch, onnxruntime, cv2, numpy; print(sys.version); print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available()); print('onnxruntime', onnxruntime.__version__, 'cv2', cv2.__version__, 'numpy', numpy.__version__)"
  python -c "import av; print('av', av.__version__)" 2>&1
  nproc
} >"$OUT/env.txt" 2>&1
step() {  # step NAME SECONDS COMMAND... -> $OUT/NAME.txt, with the exit code and time at its end
  local name=$1 limit=$2; shift 2
  local start=$SECONDS
  timeout "$limit" "$@" >"$OUT/$name.txt" 2>&1
  echo "[exit $? after $((SECONDS - start)) s, limit $limit s]" >>"$OUT/$name.txt"
  tail -3 "$OUT/$name.txt"
}
step cuda_tests 120 python -m pytest -q -p no:cacheprovider -m cuda -rs tests
step precision 110 python scripts/precision_probe.py --data .gpu_data --frames 100 --json "$OUT/fidelity.json"
step bench_segmenter 70 python bench/bench_segmenter.py --runs 200
step bench_device_pipeline 90 python bench/bench_device_pipeline.py --frames 300
step suite 170 python -m pytest -q -p no:cacheprovider -rs --ignore=tests/gui tests
ls -la "$OUT"
