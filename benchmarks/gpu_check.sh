#!/usr/bin/env bash
# The GPU check of occlubench (issue 9), in one script: the study-vs-occlubench comparison on CUDA, then the full
# paper plan (`occlubench run fer2013-halves --preset paper`: ResNet50, 30 + 4 x 15 epochs, 25-cell evaluation) on
# the real data, printing throughput, the plan's wall time and the matrix. Sized for 8 minutes on one H200.
#
#   benchmarks/gpu_check.sh prepare    # once, where pip reaches PyPI and ../shared/data/fer2013.zip exists
#   benchmarks/gpu_check.sh            # on the GPU machine; with no CUDA device it is a dry run and exits 0
#   benchmarks/gpu_check.sh selftest   # on a CPU: every step but CUDA, sized for a minute (fer_cnn, smoke)
#
# What the GPU machine needs beside the repository is in benchmarks/.gpu_payload/ (git-ignored; made by `prepare`;
# with the device tool, name it in `carry`):
#   wheels/          kornia and kornia_rs for CPython 3.12 (the GPU image has torch, torchvision, typer, rich,
#                    scikit-learn, safetensors and pillow, but not kornia); installed with --no-index --target
#   fer2013.tar.xz   FER2013 packed solid (44 MB; the 62 MB zip would not fit a 64 MiB transfer with the rest)
# ../shared/data/fer2013.zip is used instead where it exists.
#
# Environment: PYTHON (default python3), OUT (where the log and result files go; default benchmarks/gpu_results),
# COMPARE_LIMIT / PLAN_LIMIT (seconds; default 140 / 300), PLAN_ARGS (extra `occlubench run` options),
# GPU_CHECK_COMPILE (1, the default, also times occlubench's step under torch.compile in the comparison),
# GPU_CHECK_DATA=payload (read the carried archive even where ../shared/data/fer2013.zip exists).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
PAYLOAD="$HERE/.gpu_payload"
PY=${PYTHON:-python3}
MODE=${1:-run}
RESULTS=${OUT:-$HERE/gpu_results}
COMPARE_LIMIT=${COMPARE_LIMIT:-140}
PLAN_LIMIT=${PLAN_LIMIT:-300}
SHARED_ZIP="$REPO/../shared/data/fer2013.zip"
cd "$REPO" || exit 1

say() { printf '[gpu_check %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
seconds_since() { "$PY" -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$1"; }

prepare() {
    local kornia_version kornia_rs_version
    kornia_version=$("$PY" -c 'from importlib.metadata import version; print(version("kornia"))') || exit 1
    kornia_rs_version=$("$PY" -c 'from importlib.metadata import version; print(version("kornia_rs"))') || exit 1
    mkdir -p "$PAYLOAD/wheels"
    say "downloading kornia==$kornia_version and kornia_rs==$kornia_rs_version wheels for CPython 3.12"
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d "$PAYLOAD/wheels" "kornia==$kornia_version" "kornia_rs==$kornia_rs_version" || exit 1
    if [ ! -f "$PAYLOAD/fer2013.tar.xz" ]; then
        [ -f "$SHARED_ZIP" ] || { say "no $SHARED_ZIP to pack"; exit 1; }
        say "packing $SHARED_ZIP (about two minutes)"
        "$PY" "$HERE/gpu_payload.py" pack "$SHARED_ZIP" "$PAYLOAD/fer2013.tar.xz" || exit 1
    fi
    du -sh "$PAYLOAD/wheels" "$PAYLOAD/fer2013.tar.xz"
    say "payload ready; run on the GPU machine: bash benchmarks/gpu_check.sh (carry benchmarks/.gpu_payload)"
}

install_dependencies() {  # only what the interpreter lacks, from the carried wheels, into a private folder
    local site=/tmp/occlubench-site
    if ! "$PY" -c 'import kornia' 2>/dev/null; then
        compgen -G "$PAYLOAD/wheels/*.whl" >/dev/null || { say "kornia missing and no wheels: run prepare"; exit 1; }
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" \
            "$PAYLOAD"/wheels/*.whl || exit 1
    fi
    export PYTHONPATH="$REPO/src:$site${PYTHONPATH:+:$PYTHONPATH}"
    "$PY" -c 'import occlubench, kornia, torch, torchvision, typer, rich, sklearn, safetensors
print("python", __import__("platform").python_version(), "torch", torch.__version__, "torchvision",
      torchvision.__version__, "kornia", kornia.__version__, "occlubench", occlubench.__version__)' || exit 1
}

find_data() {  # sets DATA: the shared zip, or the carried archive unpacked into an image folder
    if [ -f "$SHARED_ZIP" ] && [ "${GPU_CHECK_DATA:-}" != payload ]; then
        DATA=$SHARED_ZIP
    elif [ -f "$PAYLOAD/fer2013.tar.xz" ]; then
        DATA=/tmp/occlubench-fer2013
        if [ ! -d "$DATA/train" ]; then
            say "unpacking $PAYLOAD/fer2013.tar.xz"
            "$PY" "$HERE/gpu_payload.py" unpack "$PAYLOAD/fer2013.tar.xz" "$DATA" || exit 1
        fi
    else
        say "no FER2013 data: neither $SHARED_ZIP nor $PAYLOAD/fer2013.tar.xz (run prepare)"
        exit 1
    fi
    say "data: $DATA"
}

summarize_plan() {  # $1 run directory, $2 exit code, $3 wall seconds, $4 limit
    "$PY" - "$@" <<'PYTHON'
import json, sys
from pathlib import Path

run, code, wall, limit = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])


def job_histories():
    """Finished jobs from history/<job>.json; a job stopped mid-way from its training state's metadata."""
    for history in sorted((run / "history").glob("*.json")):
        yield history.stem, json.loads(history.read_text())["epochs"]
    for state in sorted((run / "checkpoints").glob("*.state.safetensors")):
        from safetensors import safe_open

        with safe_open(str(state), framework="pt") as handle:
            meta = json.loads((handle.metadata() or {})["occlubench_train_state"])
        yield state.name.split(".")[0] + " (stopped)", meta["history"]


images = seconds = 0.0
for job, epochs in job_histories():
    job_images = sum(e["images_per_second"] * e["seconds"] for e in epochs if e.get("images_per_second"))
    job_seconds = sum(e["seconds"] for e in epochs)
    images, seconds = images + job_images, seconds + job_seconds
    print(f"  {job:24s} {len(epochs):2d} epochs  {job_seconds:6.1f} s  "
          f"{job_images / max(job_seconds, 1e-9):8,.0f} img/s (epoch time incl. validation)")
results = run / "results.json"
complete = results.is_file() and json.loads(results.read_text()).get("complete", False)
if results.is_file():
    timings = json.loads(results.read_text()).get("timings_seconds", {})
    print("  timings:", ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
print(f"  training throughput over the plan: {images / max(seconds, 1e-9):,.0f} img/s")
state = "complete" if complete else f"INCOMPLETE (exit {code}{', stopped at the time limit' if code == 124 else ''})"
verdict = "met" if complete and wall < 300 else "MISSED"
print(f"  paper plan wall time, end to end: {wall:.1f} s, {state}; target < 300 s: {verdict}")
matrix = run / "matrix.md"
if matrix.is_file():
    print(matrix.read_text())
PYTHON
}

check() {  # $1 device (cuda|cpu); the CPU variant is the self-test: tiny model, smoke preset
    local device=$1 compare_args plan_args started code wall
    mkdir -p "$RESULTS"
    install_dependencies
    find_data
    if [ "$device" = cuda ]; then
        nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader || true
        compare_args=(--device cuda --steps 50 --rounds 2)
        [ "${GPU_CHECK_COMPILE:-1}" = 1 ] && compare_args+=(--compile)
        plan_args=(--preset paper)
    else
        compare_args=(--device cpu --model fer_cnn --steps 1 --rounds 1 --eval-images 32)
        plan_args=(--preset smoke --model fer_cnn --bootstrap 0)
    fi

    say "1/2 the study's pipeline vs occlubench on $device (limit ${COMPARE_LIMIT}s)"
    OCCLUBENCH_CACHE=/tmp/occlubench-cache-compare timeout "$COMPARE_LIMIT" "$PY" "$HERE/compare_study_pipeline.py" \
        --data "$DATA" "${compare_args[@]}" --json "$RESULTS/compare_$device.json"
    code=$?
    [ $code -eq 0 ] || say "comparison ended with exit $code$([ $code -eq 124 ] && echo ' (time limit)')"

    say "2/2 occlubench run fer2013-halves ${plan_args[*]} ${PLAN_ARGS:-} on $device (limit ${PLAN_LIMIT}s)"
    local run_dir=/tmp/occlubench-plan-$device
    rm -rf "$run_dir" /tmp/occlubench-cache-plan  # end to end: the plan decodes the data itself
    started=$("$PY" -c 'import time; print(time.time())')
    # shellcheck disable=SC2086
    OCCLUBENCH_CACHE=/tmp/occlubench-cache-plan timeout "$PLAN_LIMIT" "$PY" -m occlubench run fer2013-halves \
        --data "$DATA" --out "$run_dir" --device "$device" "${plan_args[@]}" ${PLAN_ARGS:-}
    code=$?
    wall=$(seconds_since "$started")
    summarize_plan "$run_dir" "$code" "$wall" "$PLAN_LIMIT"
    for file in results.json matrix.md; do
        [ -f "$run_dir/$file" ] && cp "$run_dir/$file" "$RESULTS/plan_$file"
    done
    say "done: results in $RESULTS"
}

case "$MODE" in
    prepare)
        prepare
        ;;
    selftest)
        mkdir -p "$RESULTS"
        exec > >(tee "$RESULTS/selftest.log") 2>&1
        check cpu
        ;;
    run)
        if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
            say "dry run: $PY sees no CUDA device (or has no torch); nothing measured, nothing installed."
            say "on a GPU machine this runs compare_study_pipeline.py --device cuda, then occlubench run" \
                "fer2013-halves --preset paper (limits ${COMPARE_LIMIT} s + ${PLAN_LIMIT} s); 'selftest' runs it on a CPU."
            if compgen -G "$PAYLOAD/wheels/*.whl" >/dev/null && [ -f "$PAYLOAD/fer2013.tar.xz" ]; then
                say "payload ready: $(du -sh "$PAYLOAD" | cut -f1) in $PAYLOAD"
            elif [ -f "$SHARED_ZIP" ]; then
                say "no payload yet: run 'bash benchmarks/gpu_check.sh prepare' before carrying the tree to a GPU"
            fi
            exit 0
        fi
        mkdir -p "$RESULTS"
        exec > >(tee "$RESULTS/gpu_check.log") 2>&1
        check cuda
        ;;
    *)
        echo "usage: $0 [run|prepare|selftest]" >&2
        exit 2
        ;;
esac
