"""Continue training a zhuyi model in PyTorch, on one process or many (DistributedDataParallel).

    torchrun --standalone --nproc_per_node 2 docs/pytorch/train_ddp.py \
        --model runs/numbers-transformer --data runs/numbers-ids.jsonl --out runs/numbers-torch --steps 200

--model is a zhuyi folder: a translation folder (`zhuyi translate train --out`, with zhuyi-translate.json)
or a BERT sequence classifier (config.json + model.safetensors, e.g. `zhuyi bert finetune --out X` -> X/hf).
--data is JSON lines of token ids:
    translation  {"src": [ids], "tgt": [ids ending with EOS]}   (`zhuyi translate encode MODEL [PAIRS] --out FILE`)
    BERT         {"input_ids": [ids], "label": k}               (any tokenizer that gives the folder's ids)
--out receives a folder zhuyi reads back: `zhuyi translate eval OUT --test pairs.tsv`, or
`BertForSequenceClassification.fromPretrained(OUT)`.

Without torchrun it runs as one process. The gloo backend works on CPUs; with CUDA use --backend nccl.
"""
import argparse
import json
import os
import random

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler

from bert import load_bert_folder, save_bert_folder
from translation import CONFIG_FILE, load_zhuyi_translation, save_zhuyi_translation


def pad(rows, value):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def translation_batches(cfg):
    """Teacher forcing as zhuyi does it: the decoder reads [BOS, y_1 .. y_{T-1}] and predicts [y_1 .. y_T] (EOS last)."""
    def collate(examples):
        src = pad([e['src'] for e in examples], cfg['padId'])
        src_lengths = torch.tensor([len(e['src']) for e in examples])
        tgt_out = pad([e['tgt'] for e in examples], cfg['padId'])
        tgt_in = pad([[cfg['bosId']] + e['tgt'][:-1] for e in examples], cfg['padId'])
        return (src, src_lengths, tgt_in), tgt_out
    return collate


def bert_batches(pad_id):
    def collate(examples):
        ids = pad([e['input_ids'] for e in examples], pad_id)
        return (ids, (ids != pad_id).long()), torch.tensor([e['label'] for e in examples])
    return collate


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', required=True, help='a zhuyi model folder')
    ap.add_argument('--data', required=True, help='JSON lines of token ids')
    ap.add_argument('--out', required=True, help='folder for the trained model (zhuyi reads it back)')
    ap.add_argument('--steps', type=int, default=100)
    ap.add_argument('--batch-size', type=int, default=32, help='per process')
    ap.add_argument('--lr', type=float, default=1e-4)
    ap.add_argument('--label-smoothing', type=float, default=0.0)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--backend', default='gloo', help='gloo (CPU) or nccl (CUDA)')
    a = ap.parse_args()

    distributed = 'WORLD_SIZE' in os.environ  # set by torchrun
    if distributed:
        dist.init_process_group(a.backend)
    rank = dist.get_rank() if distributed else 0
    torch.manual_seed(a.seed)
    random.seed(a.seed)

    translation = os.path.exists(os.path.join(a.model, CONFIG_FILE))
    if translation:
        model, saved = load_zhuyi_translation(a.model)
        pad_id, collate = saved['config']['padId'], translation_batches(saved['config'])
    else:
        model = load_bert_folder(a.model)
        pad_id, collate = model.config.get('pad_token_id', 0), bert_batches(model.config.get('pad_token_id', 0))
    with open(a.data) as f:
        examples = [json.loads(line) for line in f if line.strip()]
    sampler = DistributedSampler(examples, seed=a.seed) if distributed else None  # each process reads its own share
    loader = DataLoader(examples, batch_size=a.batch_size, shuffle=sampler is None, sampler=sampler, collate_fn=collate, drop_last=False)

    model.train()
    ddp = DDP(model) if distributed else model  # averages the gradients of all processes in backward
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr)
    step, epoch = 0, 0
    while step < a.steps:
        if sampler is not None:
            sampler.set_epoch(epoch)
        for inputs, targets in loader:
            logits = ddp(*inputs)
            if translation:
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=pad_id, label_smoothing=a.label_smoothing)
            else:
                loss = F.cross_entropy(logits, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if rank == 0:
                print(f'step {step} loss {loss.item():.4f}', flush=True)
            if step >= a.steps:
                break
        epoch += 1

    if rank == 0:  # every process holds the same weights; one writes them
        model.eval()
        if translation:
            save_zhuyi_translation(model, a.model, a.out)
        else:
            save_bert_folder(model, a.out, a.model)
        print(f'saved {a.out}', flush=True)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
