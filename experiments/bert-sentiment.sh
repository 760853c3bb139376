#!/bin/bash
# Issue 6: MLM+NSP pretraining on text from ../shared/data, then fine-tuning on SST-2 (dev accuracy)
# and ChnSentiCorp (test accuracy), each against the same model fine-tuned from random init with the
# same vocabulary. Usage: bash experiments/bert-sentiment.sh [en|zh|all] [RUNS_DIR]
# Runs take tens of minutes on 2 cores; the commands are the measurement, see the issue's closing note.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data
[ -d "$DATA/sst2-glue" ] || { echo "no ../shared/data: skipping (the measurement needs SST-2 and ChnSentiCorp)"; exit 0; }
WHICH=${1:-all}
RUNS=${2:-runs/sentiment}
mkdir -p "$RUNS"
Z="node --import tsx src/cli/main.ts"

sentiment() { # lang train-file valid-file test-file pretrain-epochs finetune-epochs max-seq lr batch-tokens
  local lang=$1 train=$2 valid=$3 test=$4 pe=$5 fe=$6 msl=$7 lr=$8 bt=$9
  node experiments/build-corpus.mjs "$lang" "$RUNS/corpus-$lang.txt"
  [ -f "$RUNS/pretrain-$lang/hf/config.json" ] || \
    $Z bert pretrain --corpus "$RUNS/corpus-$lang.txt" --size tiny --vocab-size 8000 --max-seq-length 128 \
      --epochs "$pe" --lr 1e-3 --out "$RUNS/pretrain-$lang"
  for init in pretrained random; do
    local src=(--model "$RUNS/pretrain-$lang/hf")
    [ $init = random ] && src=(--init random --size tiny --vocab "$RUNS/pretrain-$lang/hf")
    [ -f "$RUNS/finetune-$lang-$init/hf/config.json" ] || \
      $Z bert finetune --task classify --train "$train" --valid "$valid" "${src[@]}" \
        --max-seq-length "$msl" --epochs "$fe" --batch-tokens "$bt" --lr "$lr" --out "$RUNS/finetune-$lang-$init"
    [ -z "$test" ] || $Z bert eval "$RUNS/finetune-$lang-$init" --task classify --test "$test" | tee "$RUNS/finetune-$lang-$init/test.txt"
  done
}

# SST-2: GLUE's dev set is the reported figure (its test labels are not public in GLUE), so it is also
# the validation set. ChnSentiCorp: validate on dev, report the labelled test set once.
case $WHICH in en|all) sentiment en $DATA/sst2-glue/train.tsv $DATA/sst2-glue/dev.tsv "" 4 3 66 3e-4 2048 ;; esac
case $WHICH in zh|all) sentiment zh $DATA/chnsenticorp/train.tsv $DATA/chnsenticorp/dev.tsv $DATA/chnsenticorp/test_labeled.tsv 5 3 192 3e-4 4096 ;; esac
