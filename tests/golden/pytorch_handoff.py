"""The Python side of tests/io/pytorch-handoff.test.ts: logits of a zhuyi folder loaded with docs/pytorch's modules.

    /usr/bin/python3 tests/golden/pytorch_handoff.py FOLDER INPUTS.json OUT.safetensors

FOLDER is a zhuyi translation folder (zhuyi-translate.json) or a BERT sequence classifier (config.json);
INPUTS.json holds {"src", "srcLengths", "tgtIn"} or {"inputIds", "attentionMask"}; OUT gets `logits`
computed in eval mode (float32), which the test compares with zhuyi's.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'docs', 'pytorch'))
from bert import load_bert_folder  # noqa: E402
from safetensors_io import save_file  # noqa: E402
from translation import CONFIG_FILE, load_zhuyi_translation  # noqa: E402


def main(folder, inputs_path, out_path):
    with open(inputs_path) as f:
        x = json.load(f)
    with torch.no_grad():
        if os.path.exists(os.path.join(folder, CONFIG_FILE)):
            model, _ = load_zhuyi_translation(folder)
            logits = model.eval()(torch.tensor(x['src']), torch.tensor(x['srcLengths']), torch.tensor(x['tgtIn']))
        else:
            model = load_bert_folder(folder)
            logits = model.eval()(torch.tensor(x['inputIds']), torch.tensor(x['attentionMask']))
    save_file({'logits': logits.float()}, out_path)


if __name__ == '__main__':
    main(*sys.argv[1:4])
