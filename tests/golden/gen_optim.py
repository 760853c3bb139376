"""PyTorch goldens for zhuyi's optimizers, gradient clipping and LambdaLR schedules.

Run with Debian's PyTorch 1.13: /usr/bin/python3 tests/golden/gen_optim.py
Writes tests/golden/optim.safetensors:
  init/KEY          a small MLP's state_dict (Linear(4,6) -> tanh -> Linear(6,3)), F32
  data/x, data/y    one batch (F32, I32); the loss is cross_entropy(mlp(x), y)
  CASE/param/KEY    parameters after 20 steps (F64), CASE/loss the 20 losses (F64)
  sched/NAME        the lr LambdaLR gives for steps 0..N-1 (F64)
The reference runs in float64 from the float32 starting values; __metadata__ 'cases' gives each
case's optimizer and settings.
"""
import json
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gen_rnn_attn import write_safetensors, HERE
import os

STEPS = 20


def mlp():
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))


# name -> (optimizer, options, clip max norm or None, schedule or None, groups)
CASES = {
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}, None, None, False),
    "sgd_nesterov": ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, None, None, False),
    "sgd_dampening": ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.1}, None, None, False),
    "adam": ("Adam", {"lr": 0.01, "weight_decay": 0.01}, None, None, False),
    "adam_amsgrad": ("Adam", {"lr": 0.02, "betas": [0.8, 0.99], "amsgrad": True}, None, None, False),
    "adamw": ("AdamW", {"lr": 0.01, "weight_decay": 0.1}, None, None, False),
    "adamw_clip_noam": ("AdamW", {"lr": 0.05, "weight_decay": 0.01}, 0.5, "noam5", False),
    "adamw_groups_linear": ("AdamW", {"lr": 0.03}, 1.0, "linear", True),
}


def noam(warmup, d_model=None, factor=1.0):
    """The Annotated Transformer's rate(); with d_model None, normalised to peak at 1 at s = warmup."""
    w = max(warmup, 1)
    scale = factor * (d_model ** -0.5 if d_model is not None else math.sqrt(w))
    return lambda step: scale * min(max(step, 1) ** -0.5, max(step, 1) * w ** -1.5)


def linear(warmup, total):
    """Hugging Face get_linear_schedule_with_warmup's lambda."""
    return lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup))


def cosine(warmup, total, cycles=0.5):
    """Hugging Face get_cosine_schedule_with_warmup's lambda."""
    def f(s):
        if s < warmup:
            return s / max(1, warmup)
        p = (s - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * p)))
    return f


SCHEDULES = {"noam5": noam(5), "linear": linear(3, STEPS)}


def run_case(init, x, y, name, spec):
    kind, opts, clip, sched, groups = spec
    model = mlp().double()
    model.load_state_dict({k: v.double() for k, v in init.items()})
    params = list(model.parameters())
    if groups:
        decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
        no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
        param_arg = [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0, "lr": 0.01}]
    else:
        param_arg = params
    opt = getattr(torch.optim, kind)(param_arg, **{k: tuple(v) if k == "betas" else v for k, v in opts.items()})
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, SCHEDULES[sched]) if sched else None
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = F.cross_entropy(model(x.double()), y.long())
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        if scheduler:
            scheduler.step()
        losses.append(loss.item())
    out = {f"{name}/param/{k}": v.detach().numpy() for k, v in model.state_dict().items()}
    out[f"{name}/loss"] = np.array(losses)
    return out


def main():
    torch.manual_seed(11)
    model = mlp()
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    x = torch.randn(8, 4)
    y = torch.randint(0, 3, (8,), dtype=torch.int32)
    tensors = {f"init/{k}": v.numpy() for k, v in init.items()}
    tensors["data/x"] = x.numpy()
    tensors["data/y"] = y.numpy()
    for name, spec in CASES.items():
        tensors.update(run_case(init, x, y, name, spec))
    sched_meta = {
        "noam": {"warmup": 4000, "dModel": 512, "steps": 6000, "base": 1.0},
        "noam_peak": {"warmup": 100, "steps": 400, "base": 5e-4},
        "linear": {"warmup": 10, "total": 100, "steps": 120, "base": 0.1},
        "cosine": {"warmup": 10, "total": 100, "steps": 120, "base": 0.1},
    }
    lambdas = {
        "noam": noam(4000, 512), "noam_peak": noam(100), "linear": linear(10, 100), "cosine": cosine(10, 100),
    }
    for name, m in sched_meta.items():
        p = nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=m["base"])
        s = torch.optim.lr_scheduler.LambdaLR(opt, lambdas[name])
        lrs = []
        for _ in range(m["steps"]):
            lrs.append(s.get_last_lr()[0])
            opt.step()
            s.step()
        tensors[f"sched/{name}"] = np.array(lrs)
    meta = {"torch": torch.__version__, "steps": str(STEPS),
            "cases": json.dumps({k: {"optimizer": v[0], "options": v[1], "clip": v[2], "schedule": v[3], "groups": v[4]} for k, v in CASES.items()}),
            "schedules": json.dumps(sched_meta)}
    write_safetensors(os.path.join(HERE, "optim.safetensors"), tensors, meta)
    print("optim.safetensors", os.path.getsize(os.path.join(HERE, "optim.safetensors")), "bytes")


if __name__ == "__main__":
    main()
