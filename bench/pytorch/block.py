"""The PyTorch side of bench/block.ts: the same Transformer-encoder block, loss and SGD step.

Prints one JSON line: {"torch": version, "threads": n, "median_ms": ..., "runs": [...]}.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

from timing import report

B, T, C, H, FF = 32, 64, 256, 4, 1024
D = C // H
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
WARMUP = 3

torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)


def w(i, o):
    return (torch.randn(i, o) / math.sqrt(i)).requires_grad_()


def z(*s):
    return torch.zeros(*s).requires_grad_()


def o(*s):
    return torch.ones(*s).requires_grad_()


params = [w(C, 3 * C), z(3 * C), w(C, C), z(C), o(C), z(C), w(C, FF), z(FF), w(FF, C), z(C), o(C), z(C)]
x = torch.randn(B, T, C)
target = torch.randn(B, T, C)


def loss_fn(p):
    wqkv, bqkv, wo, bo, g1, b1n, w1, b1, w2, b2, g2, b2n = p
    qkv = x @ wqkv + bqkv
    q, k, v = (t.reshape(B, T, H, D).permute(0, 2, 1, 3) for t in qkv.split(C, -1))
    att = torch.softmax((q @ k.transpose(-2, -1)) * (1 / math.sqrt(D)), -1)
    ctx = (att @ v).permute(0, 2, 1, 3).reshape(B, T, C)
    h1 = F.layer_norm(x + (ctx @ wo + bo), (C,), g1, b1n)
    ff = F.gelu(h1 @ w1 + b1) @ w2 + b2
    h2 = F.layer_norm(h1 + ff, (C,), g2, b2n)
    d = h2 - target
    return (d * d).mean()


def step(lr=0.01):
    loss = loss_fn(params)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return loss.item()


report(step, RUNS, WARMUP)
