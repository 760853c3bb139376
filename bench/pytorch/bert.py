"""The PyTorch side of bench/models.ts's BERT rows: BertModel / BertForSequenceClassification as
Hugging Face's modeling_bert.py writes them (post-norm, GELU, pooler), random weights.

  bert.py forward L H A B T RUNS      eval-mode forward, no grad
  bert.py train L H A B T RUNS        one fine-tuning step (dropout 0.1, AdamW lr 5e-5)
  bert.py export L H A B T PATH       torch.onnx.export of BertModel with dynamic batch and sequence
                                      axes (the graph Optimum writes for transformers.js)
Prints the JSON line of timing.report (export prints {"exported": PATH}).
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

from timing import report

MODE = sys.argv[1]
L, H, A, B, T = (int(a) for a in sys.argv[2:7])
V, P, I = 30522, 512, 4 * H
torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.query, self.key, self.value, self.attn_out = (nn.Linear(H, H) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        self.inter, self.out = nn.Linear(H, I), nn.Linear(I, H)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, additive_mask):
        b, t, _ = x.shape
        split = lambda y: y.view(b, t, A, H // A).transpose(1, 2)  # (B, T, C) -> (B, A, T, D)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(H // A) + additive_mask
        ctx = (self.drop(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, t, H)
        x = self.ln1(x + self.drop(self.attn_out(ctx)))
        return self.ln2(x + self.drop(self.out(F.gelu(self.inter(x)))))


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word, self.pos, self.segment = nn.Embedding(V, H), nn.Embedding(P, H), nn.Embedding(2, H)
        self.ln, self.drop = nn.LayerNorm(H, eps=1e-12), nn.Dropout(0.1)
        self.layers = nn.ModuleList(Layer() for _ in range(L))
        self.pooler = nn.Linear(H, H)

    def forward(self, input_ids, attention_mask, token_type_ids):
        positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = self.drop(self.ln(self.word(input_ids) + self.pos(positions) + self.segment(token_type_ids)))
        additive = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, additive)
        return x, torch.tanh(self.pooler(x[:, 0]))


ids = torch.randint(1000, V, (B, T))
mask, types = torch.ones(B, T, dtype=torch.long), torch.zeros(B, T, dtype=torch.long)

if MODE == "export":
    model = Bert().eval()
    torch.onnx.export(model, (ids, mask, types), sys.argv[7], input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["last_hidden_state", "pooler_output"], opset_version=14,
                      dynamic_axes={n: {0: "batch_size", 1: "sequence_length"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]})
    print(json.dumps({"exported": sys.argv[7]}))
elif MODE == "forward":
    model = Bert().eval()

    @torch.no_grad()
    def step():
        model(ids, mask, types)

    report(step, int(sys.argv[7]), 2)
else:
    bert, classifier = Bert().train(), nn.Linear(H, 2)
    params = list(bert.parameters()) + list(classifier.parameters())
    opt = torch.optim.AdamW(params, lr=5e-5, weight_decay=0.01)
    labels = torch.randint(0, 2, (B,))

    def step():
        opt.zero_grad()
        _, pooled = bert(ids, mask, types)
        loss = F.cross_entropy(classifier(F.dropout(pooled, 0.1)), labels)
        loss.backward()
        opt.step()
        return loss.item()

    report(step, int(sys.argv[7]), 1)
