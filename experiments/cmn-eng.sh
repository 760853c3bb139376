#!/bin/bash
# Issue 20: the three rungs (GRU Seq2Seq, GRU + attention, Transformer) on Tatoeba Chinese<->English, both
# directions, then BLEU and chrF on the held-out test split (1,168 pairs), greedy and beam 4, last checkpoint.
# Usage: bash experiments/cmn-eng.sh [RUNS_DIR] [EPOCHS]   (each run: 10-50 min on 2 cores; finished runs are kept)
# THREADS caps ONNX Runtime's threads per run (default: every core). Prints the README's table at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=${ZHUYI_DATA:-../shared/data}
[ -f "$DATA/cmn-eng-tatoeba/v2020-23610/cmn.txt" ] || { echo "no $DATA/cmn-eng-tatoeba: skipping (the measurement needs Tatoeba cmn-eng)"; exit 0; }
RUNS=${1:-runs/cmn-eng}
EPOCHS=${2:-10}
mkdir -p "$RUNS"
Z="node --import tsx src/cli/main.ts"
X=(${THREADS:+--threads "$THREADS"})
for dir in zh-en en-zh; do
  for model in transformer attention seq2seq; do
    out="$RUNS/$dir-$model"
    if [ ! -f "$out/seconds" ]; then
      start=$(date +%s)
      $Z translate train --data cmn-eng --direction $dir --model $model --size small --min-freq 2 \
        --epochs "$EPOCHS" --batch-tokens 4096 --lr 1e-3 --valid-decode 200 "${X[@]}" --out "$out" || exit 1
      echo $(( $(date +%s) - start )) > "$out/seconds"
    fi
    for beam in 1 4; do
      [ -f "$out/test-beam$beam.json" ] || $Z translate eval "$out" --checkpoint last --beam $beam --json "${X[@]}" > "$out/test-beam$beam.json" || exit 1
    done
  done
done
node -e '
const fs = require("fs"), runs = process.argv[1];
const name = { transformer: "Transformer", attention: "GRU + attention", seq2seq: "GRU Seq2Seq" };
console.log("| direction | rung (`--size small`) | training | BLEU greedy | BLEU beam 4 | chrF greedy | chrF beam 4 |");
console.log("|---|---|---|---|---|---|---|");
for (const dir of ["zh-en", "en-zh"]) for (const m of ["seq2seq", "attention", "transformer"]) {
  const d = `${runs}/${dir}-${m}`, j = (b) => JSON.parse(fs.readFileSync(`${d}/test-beam${b}.json`, "utf8"));
  if (!fs.existsSync(`${d}/test-beam4.json`)) continue;
  const g = j(1), b = j(4), f = (x) => x.toFixed(2);
  console.log(`| ${dir.replace("-", "->")} | ${name[m]} | ${(Number(fs.readFileSync(`${d}/seconds`, "utf8")) / 60).toFixed(0)} min | ${f(g.bleu)} | ${f(b.bleu)} | ${f(g.chrf)} | ${f(b.chrf)} |`);
}' "$RUNS"
