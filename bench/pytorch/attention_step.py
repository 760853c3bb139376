"""The PyTorch side of bench/attention.ts: one training step of the Multi30k GRU + attention model.

The `base` preset of `zhuyi translate train --model attention`: embeddings 256, bidirectional GRU
encoder 256 per direction, s_0 = tanh(W_s h<-_1), additive attention (A = 512) with the keys
projected once, GRUCell decoder 512 over [E y; c], maxout deep output (l = 256) over [s; c; E y],
vocabulary projection, cross-entropy with label smoothing 0.1 (padding ignored), gradient clipping
at 1 and AdamW. Same shapes, same FLOPs as the zhuyi step.

Usage: attention_step.py B S T V_SRC V_TGT RUNS. Prints one JSON line: {"torch", "threads", "median_ms", "runs"}.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from timing import report

B, S, T, VS, VT, RUNS = (int(a) for a in sys.argv[1:7])
E, HE, HD, L = 256, 256, 512, 256
torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.src_emb = nn.Embedding(VS, E, padding_idx=0)
        self.enc = nn.GRU(E, HE, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(HE, HD)
        self.tgt_emb = nn.Embedding(VT, E, padding_idx=0)
        self.W = nn.Linear(HD, HD, bias=False)
        self.U = nn.Linear(2 * HE, HD, bias=False)
        self.v = nn.Linear(HD, 1, bias=False)
        self.cell = nn.GRUCell(E + 2 * HE, HD)
        self.readout = nn.Linear(HD + 2 * HE + E, 2 * L)
        self.fc_out = nn.Linear(L, VT)
        self.drop = nn.Dropout(0.5)

    def forward(self, src, tgt_in):
        ann, h = self.enc(self.drop(self.src_emb(src)))
        s = torch.tanh(self.fc(h[1]))
        keys = self.U(ann)
        y = self.drop(self.tgt_emb(tgt_in))
        feats = []
        for t in range(tgt_in.shape[1]):
            e = self.v(torch.tanh(self.W(s).unsqueeze(1) + keys)).squeeze(2)
            a = torch.softmax(e, -1)
            c = torch.bmm(a.unsqueeze(1), ann).squeeze(1)
            s = self.cell(torch.cat([y[:, t], c], 1), s)
            feats.append(torch.cat([s, c, y[:, t]], 1))
        r = self.readout(torch.stack(feats, 1)).view(B, tgt_in.shape[1], L, 2).amax(-1)
        return self.fc_out(r)


model = Model()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=0.01)
src = torch.randint(4, VS, (B, S))
tgt_in = torch.randint(4, VT, (B, T))
tgt_out = torch.randint(4, VT, (B, T))


def step():
    opt.zero_grad()
    logits = model(src, tgt_in)
    loss = F.cross_entropy(logits.reshape(-1, VT), tgt_out.reshape(-1), ignore_index=0, label_smoothing=0.1)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


report(step, RUNS, 2)
