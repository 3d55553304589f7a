#!/usr/bin/env bash
# Issue 17's GPU checks as one prepared run, for a session that is lent a GPU
# machine (the `device` tool; its python3 holds CUDA torch, scikit-learn and
# joblib, but not skorch, and nothing can be fetched there):
#
#   here, once:  d="$(git rev-parse --git-dir)/info"; mkdir -p "$d"; echo /.whl/ >> "$d/exclude"
#                python3 -m pip download --no-deps -d .whl skorch==1.4.0
#   there:       run(command="bash bench/gpu_check.sh", carry=[".whl"], timeout_s=560)
#
# It runs the GPU tests (`pytest -m gpu`) and bench/parallel.py's
# candidates-per-minute table for 1, 2, 4 and 8 candidates per GPU in both
# search modes, and writes the log to $OUT/gpu_check.log (or /tmp).
set -o pipefail
out="${OUT:-/tmp}"
log="$out/gpu_check.log"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))" \
    2>&1 | tee "$log" || exit 1
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_devices.py 2>&1 \
    | tee -a "$log"
timeout 360 python3 bench/parallel.py --device cuda --concurrent 1 2 4 8 \
    --strategies generational asynchronous --generations 3 --repeats 1 2>&1 | tee -a "$log"
