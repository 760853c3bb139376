#!/bin/bash
# Issue 20: the three rungs on Multi30k German->English (the README's recipes), each checkpoint chosen on
# the loss over the full validation set (1,014 sentences; --valid-decode 0), then BLEU and chrF of that
# checkpoint on test_2016_flickr and test_2017_flickr (never used for any choice), greedy and beam 4,
# lowercased tokenized text (--bleu-tokenize none), as the published PyTorch ladder reports.
# Usage: bash experiments/multi30k.sh [RUNS_DIR]   (each run: 40-70 min on 2 cores; finished runs are kept)
# THREADS caps ONNX Runtime's threads per run (default: every core). Prints the README's table at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
D=${ZHUYI_DATA:-../shared/data}/multi30k-en-de/tok
[ -f "$D/train.lc.norm.tok.de" ] || { echo "no $D: skipping (the measurement needs Multi30k)"; exit 0; }
RUNS=${1:-runs/multi30k}
mkdir -p "$RUNS"
Z="node --import tsx src/cli/main.ts"
X=(${THREADS:+--threads "$THREADS"})
DATA=(--tokenizer whitespace --min-freq 2 --train "$D/train.lc.norm.tok.de,$D/train.lc.norm.tok.en" --valid "$D/val.lc.norm.tok.de,$D/val.lc.norm.tok.en" --valid-decode 0)
declare -A RECIPE=(
  [seq2seq]="--epochs 11"
  [attention]="--epochs 9"
  [transformer]="--epochs 11 --batch-tokens 2048 --lr 7e-4"
)
for model in seq2seq attention transformer; do
  out="$RUNS/$model"
  if [ ! -f "$out/seconds" ]; then
    start=$(date +%s)
    $Z translate train --model $model --size base "${DATA[@]}" ${RECIPE[$model]} "${X[@]}" --out "$out" || exit 1
    echo $(( $(date +%s) - start )) > "$out/seconds"
  fi
  for test in test_2016_flickr test_2017_flickr; do
    for beam in 1 4; do
      [ -f "$out/$test-beam$beam.json" ] || $Z translate eval "$out" --checkpoint best --bleu-tokenize none --beam $beam --json "${X[@]}" \
        --test "$D/$test.lc.norm.tok.de,$D/$test.lc.norm.tok.en" --output "$out/$test-beam$beam.txt" > "$out/$test-beam$beam.json" || exit 1
    done
  done
done
node -e '
const fs = require("fs"), runs = process.argv[1];
const name = { transformer: "Transformer (3+3 layers, d 256)", attention: "GRU + attention", seq2seq: "GRU Seq2Seq" };
console.log("| rung (`--size base`) | training | best epoch (valid loss) | 2016 greedy | 2016 beam 4 | 2017 greedy | 2017 beam 4 |");
console.log("|---|---|---|---|---|---|---|");
for (const m of ["seq2seq", "attention", "transformer"]) {
  const d = `${runs}/${m}`, j = (t, b) => JSON.parse(fs.readFileSync(`${d}/${t}-beam${b}.json`, "utf8")).bleu.toFixed(2);
  if (!fs.existsSync(`${d}/test_2017_flickr-beam4.json`)) continue;
  const log = fs.readFileSync(`${d}/log.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const valid = log.filter((r) => r.valid_loss !== undefined), best = valid.reduce((a, r) => (r.valid_loss < a.valid_loss ? r : a));
  const epochs = Math.max(...log.map((r) => r.epoch ?? 0));
  console.log(`| ${name[m]} | ${(Number(fs.readFileSync(`${d}/seconds`, "utf8")) / 60).toFixed(0)} min, ${epochs} epochs | ${best.epoch} (${best.valid_loss.toFixed(3)}) | ${j("test_2016_flickr", 1)} | ${j("test_2016_flickr", 4)} | ${j("test_2017_flickr", 1)} | ${j("test_2017_flickr", 4)} |`);
}' "$RUNS"
