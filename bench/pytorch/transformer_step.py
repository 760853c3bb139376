"""The PyTorch side of bench/models.ts translationStep: one training step of the Multi30k-sized
Transformer (nn.Transformer post-norm, d 256, 8 heads, 3+3 layers, FFN 512, dropout 0.1,
batch-first), with embeddings scaled by sqrt(d), sinusoidal positions, an output projection,
label-smoothed cross-entropy (0.1, ignoring pad) and AdamW, as the PyTorch translation tutorial
trains it. Prints the JSON line of timing.report.
"""
import math
import os
import sys

import torch
from torch import nn

from timing import report

B, S, T, SRC_V, TGT_V = (int(a) for a in sys.argv[1:6])
RUNS = int(sys.argv[6]) if len(sys.argv) > 6 else 5
D, H, L, FF, PAD = 256, 8, 3, 512, 0

torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)


class Seq2SeqTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.src_emb, self.tgt_emb = nn.Embedding(SRC_V, D), nn.Embedding(TGT_V, D)
        self.transformer = nn.Transformer(D, H, L, L, FF, dropout=0.1, batch_first=True)
        self.generator = nn.Linear(D, TGT_V)
        pos = torch.arange(512).unsqueeze(1)
        div = torch.exp(torch.arange(0, D, 2) * (-math.log(10000.0) / D))
        pe = torch.zeros(512, D)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        self.register_buffer("pe", pe)
        self.dropout = nn.Dropout(0.1)

    def forward(self, src, tgt_in):
        s = self.dropout(self.src_emb(src) * math.sqrt(D) + self.pe[: src.shape[1]])
        t = self.dropout(self.tgt_emb(tgt_in) * math.sqrt(D) + self.pe[: tgt_in.shape[1]])
        mask = self.transformer.generate_square_subsequent_mask(tgt_in.shape[1])
        out = self.transformer(s, t, tgt_mask=mask, src_key_padding_mask=src == PAD, tgt_key_padding_mask=tgt_in == PAD,
                               memory_key_padding_mask=src == PAD)
        return self.generator(out)


model = Seq2SeqTransformer().train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=0.01)
loss_fn = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)
src = torch.randint(4, SRC_V, (B, S))
tgt_in, tgt_out = torch.randint(4, TGT_V, (B, T)), torch.randint(4, TGT_V, (B, T))


def step():
    opt.zero_grad()
    loss = loss_fn(model(src, tgt_in).reshape(-1, TGT_V), tgt_out.reshape(-1))
    loss.backward()
    opt.step()
    return loss.item()


report(step, RUNS, 2)
