#!/usr/bin/env bash
# One prepared round on the GPU machine (the `device` tool: 15 minutes of device time per session, 10 per command,
# 64 MiB carried), in two calls made back to back while the machine is warm:
#
#   bash tools/device_round.sh check        carry [".device/whl"]     80-105 s, plus about 30 s to start (H200, 2026-12-04)
#       the CUDA tests and GPU benchmarks (tools/gpu_check.py) -> $OUT/gpu_check.json, check.log, nvidia-smi.txt;
#       the figures are in docs/gpu.md
#   bash tools/device_round.sh train MIN    carry [".device/shared"]  MIN + about 40 s (H200: 1,750 steps a minute)
#       de-filter training resumed from the shipped checkpoint (models/defilter_train_checkpoint.pt) for MIN
#       minutes, with the excess-penalty weight the checkpoint was trained with -> $OUT/weights.pt (model only),
#       log.jsonl, train.log, defilter.onnx. EXCESS="6 12 24" trains one network per weight side by side (the
#       16 cores shared: THREADS each, 4 by default), each into $OUT/excess_W/: weights.pt and log.jsonl alone (at
#       most 8 files come back: export the ONNX here); 4 weights for 7 minutes: 476 s on the H200, about 8,700 steps each
#   bash tools/device_round.sh heldout MIN  carry [".device/shared", ".device/heldout"]  MIN + about 40 s (H200:
#       7.5 minutes, 490 s, steps 4,482 -> 13,452)
#       a network trained without the training looks tune_oneshot.py evaluates (train_defilter.py
#       --hold-out-tuned-looks, with the shipped network's excess-penalty weight unless EXCESS names one weight:
#       one network), on from .device/heldout/weights.pt (see below; from scratch without it), the same outputs:
#       with it, one-photo rules can be fitted on templates the network never saw
#
# Prepare here, once per checkout (the folders are ignored by git; together they exceed 64 MiB, hence two calls):
#   python tools/pack_shared.py                       # .device/shared: ../shared/data packed, about 15 MB
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 -d .device/whl av==18.1.0   # PyAV (the live loop imports it), 35 MB;
#       # MediaPipe (bench-live's face protection) does not fit beside it: check measures without faces
#   mkdir -p .device/heldout && git show 4c83f95:tools/results/prior_rule_heldout/weights.pt \
#       > .device/heldout/weights.pt                  # heldout's start, 1 MB (git keeps it): 13,452 steps, the
#       # last 8,970 on an H200 (docs/decisions.md 'prior rule on held-out templates'); the CPU start (4,482 steps)
#       # is 9bdfd4b:tools/results/train_heldout/weights.pt
# Then, here: copy $OUT/weights.pt to runs/train_gpu/ and evaluate it (tools/export_onnx.py --ckpt ...,
# tools/tune_oneshot.py --model ..., tools/eval_looks.py --model ... --rule A B) before shipping anything.
set -o pipefail
cd "$(dirname "$0")/.." || exit 2
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT=${OUT:-/tmp/device_round}
mkdir -p "$OUT"
PY=${PYTHON:-python3}

train() {  # DIR EXCESS THREADS [ARGS...]: on from DIR/last.pt (else ARGS' --init) for $minutes minutes
    local dir=$1 excess=$2 threads=$3
    shift 3
    "$PY" tools/train_defilter.py --out "$dir" --resume --minutes "$minutes" --transfer 3 --excess "$excess" \
        --threads "$threads" --ckpt-minutes 1 --val-every 200 "$@"
}

shipped_excess() {  # the excess-penalty weight the shipped network was trained with
    "$PY" -c "import sys, torch; print(torch.load(sys.argv[1], map_location='cpu', \
weights_only=False)['args'].get('excess', 0.0))" models/defilter_train_checkpoint.pt
}

finish() {  # WORK OUT [ONNX]: the log, the model alone (no optimiser state: it travels back small), its ONNX export
    cp "$1/log.jsonl" "$2/" &&
    "$PY" -c "import sys, torch; ck = torch.load(sys.argv[1], map_location='cpu', weights_only=False); \
torch.save({'model': ck['model'], 'step': ck['step'], 'args': ck['args']}, sys.argv[2])" "$1/last.pt" "$2/weights.pt" &&
    { [ "${3:-onnx}" != onnx ] || "$PY" tools/export_onnx.py --ckpt "$2/weights.pt" --out "$2/defilter.onnx" 2>&1 | tail -n 3; }
}

case "${1:-}" in
check)
    if ls .device/whl/*.whl > /dev/null 2>&1; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
            .device/whl/*.whl && export PYTHONPATH="$PYTHONPATH:/tmp/site"
    fi
    nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
    "$PY" tools/gpu_check.py --json "$OUT/gpu_check.json" ${QUICK:+--quick} 2>&1 | tee "$OUT/check.log"
    ;;
train|heldout)
    minutes=${2:-6}
    export LIVEFILTER_SHARED_DATA="$PWD/.device/shared"
    if [ ! -d "$LIVEFILTER_SHARED_DATA/photos" ]; then
        echo "device_round: $LIVEFILTER_SHARED_DATA is missing: run tools/pack_shared.py and carry .device/shared" >&2
        exit 2
    fi
    mode=$1
    # the shipped checkpoint's own excess weight unless EXCESS names others (it was dropped before: a resumed
    # network trained without the penalty it was shipped with)
    weights=${EXCESS:-$(shipped_excess)} || exit 2
    set -- $weights
    rc=0
    if [ "$mode" = heldout ]; then  # the tuned looks held out: from scratch, or on from the carried start
        if [ $# -ne 1 ]; then  # a list (train's sweep) would fail in argparse after the machine started
            echo "device_round: heldout trains one network: EXCESS is one weight, got '$weights'" >&2
            exit 2
        fi
        work=${TRAIN_DIR:-/tmp/train_heldout}
        mkdir -p "$work"
        args=(--lr 1e-3 --hold-out-tuned-looks)  # its own last.pt first (--resume), else the start's weights
        [ -f "$work/last.pt" ] || [ ! -f .device/heldout/weights.pt ] || args+=(--init .device/heldout/weights.pt)
        [ -f "$work/last.pt" ] || [ -f .device/heldout/weights.pt ] || \
            echo "device_round: no .device/heldout/weights.pt (see the header): training from scratch" >&2
    else
        work=${TRAIN_DIR:-/tmp/train_gpu}
        mkdir -p "$work"
        args=(--lr 3e-4)
        [ $# -gt 1 ] || [ -f "$work/last.pt" ] || cp models/defilter_train_checkpoint.pt "$work/last.pt"
    fi
    if [ $# -eq 1 ]; then
        train "$work" "$1" "${THREADS:-8}" "${args[@]}" 2>&1 | tee "$OUT/train.log" || rc=1
        finish "$work" "$OUT" || rc=1
        exit $rc
    fi
    pids=()
    for w in "$@"; do
        mkdir -p "$work/excess_$w" "$OUT/excess_$w"
        [ -f "$work/excess_$w/last.pt" ] || cp models/defilter_train_checkpoint.pt "$work/excess_$w/last.pt"
        train "$work/excess_$w" "$w" "${THREADS:-4}" "${args[@]}" > "$work/excess_$w/train.log" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    for w in "$@"; do
        finish "$work/excess_$w" "$OUT/excess_$w" no-onnx || rc=1
        echo "excess $w: $(tail -c 3000 "$work/excess_$w/train.log" | tr '\r' '\n' | grep -a '^\[val\]\|^done' | tail -n 2 | tr '\n' ' ')"
    done
    exit $rc
    ;;
*)
    sed -n '2,/^set -o pipefail/p' "$0" | sed '$d' >&2
    exit 2
    ;;
esac
