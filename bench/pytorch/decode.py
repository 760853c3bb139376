"""The PyTorch side of bench/decode.ts: greedy decoding with the same Transformer shape, random weights.

nn.Transformer (post-norm, d 256, 8 heads, 3+3 layers, FFN 512, batch-first) with embeddings,
sinusoidal positions and an output projection; EOS never wins, so every sentence runs T steps.
Each step reruns the decoder over the whole prefix (nn.TransformerDecoder has no key/value cache),
as the PyTorch translation tutorial decodes. Prints the JSON line of timing.report.
"""
import math
import os
import sys

import torch
from torch import nn

from timing import report

B, S, T, SRC_V, TGT_V = (int(a) for a in sys.argv[1:6])
RUNS = int(sys.argv[6]) if len(sys.argv) > 6 else 5
D, H, L, FF = 256, 8, 3, 512
BOS, EOS = 2, 3

torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)
src_emb, tgt_emb = nn.Embedding(SRC_V, D), nn.Embedding(TGT_V, D)
model = nn.Transformer(D, H, L, L, FF, dropout=0.1, batch_first=True).eval()
gen = nn.Linear(D, TGT_V)
with torch.no_grad():
    gen.bias[EOS] = -1e4
pos = torch.arange(512).unsqueeze(1)
div = torch.exp(torch.arange(0, D, 2) * (-math.log(10000.0) / D))
pe = torch.zeros(512, D)
pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
src = torch.randint(4, SRC_V, (B, S))


@torch.no_grad()
def decode():
    memory = model.encoder(src_emb(src) * math.sqrt(D) + pe[:S])
    ys = torch.full((B, 1), BOS)
    for _ in range(T):
        n = ys.shape[1]
        mask = model.generate_square_subsequent_mask(n)
        out = model.decoder(tgt_emb(ys) * math.sqrt(D) + pe[:n], memory, tgt_mask=mask)
        nxt = gen(out[:, -1]).log_softmax(-1).argmax(-1, keepdim=True)
        ys = torch.cat([ys, nxt], 1)
    return ys


report(decode, RUNS, 1)
