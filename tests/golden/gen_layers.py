"""PyTorch goldens for zhuyi's basic layers (Linear, Embedding, LayerNorm) and losses.

Run with Debian's PyTorch 1.13: /usr/bin/python3 tests/golden/gen_layers.py
Writes tests/golden/layers.safetensors in gen_rnn_attn.py's case layout (outputs and gradients of
sum(w * output) for every float input and parameter, reference in float64).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from gen_rnn_attn import Fixture, rn


def ints(high, *shape):
    return torch.randint(0, high, shape, dtype=torch.int32)


def const(fx, case, name, value):
    """A float constant of a case that is not differentiated (class weights): NAME/const/X, F32."""
    value = value.float()
    fx.tensors[f"{case}/const/{name}"] = value.numpy()
    return value.double()


def gen_layers(fx):
    fx.case("linear", nn.Linear(4, 3), {"x": rn(2, 5, 4)}, lambda m, x: {"y": m(x)})
    fx.case("linear_nobias", nn.Linear(4, 3, bias=False), {"x": rn(6, 4)}, lambda m, x: {"y": m(x)})
    ids = torch.tensor([[0, 3, 7, 3], [9, 0, 1, 2]], dtype=torch.int32)
    fx.case("embedding_pad", nn.Embedding(10, 4, padding_idx=0), {"ids": ids}, lambda m, ids: {"y": m(ids.long())})
    fx.case("layernorm", nn.LayerNorm(5), {"x": rn(2, 3, 5)}, lambda m, x: {"y": m(x)})
    fx.case("layernorm_2d", nn.LayerNorm([3, 5], eps=1e-6), {"x": rn(2, 3, 5)}, lambda m, x: {"y": m(x)})
    fx.case("layernorm_noaffine", nn.LayerNorm(5, elementwise_affine=False), {"x": rn(4, 5)}, lambda m, x: {"y": m(x)})


def gen_losses(fx):
    none = nn.Module()
    t = ints(5, 6)
    t[2] = -100
    fx.case("ce_mean", none, {"x": rn(6, 5), "t": t}, lambda m, x, t: {"loss": F.cross_entropy(x, t.long())})
    t_pad = ints(5, 6)
    t_pad[1] = 0
    t_pad[4] = 0
    fx.case("ce_ignore_smooth", none, {"x": rn(6, 5), "t": t_pad},
            lambda m, x, t: {"loss": F.cross_entropy(x, t.long(), ignore_index=0, label_smoothing=0.1)})
    w = const(fx, "ce_weight_smooth", "w", torch.rand(5) + 0.5)
    fx.case("ce_weight_smooth", none, {"x": rn(6, 5), "t": t},
            lambda m, x, t: {"loss": F.cross_entropy(x, t.long(), weight=w, label_smoothing=0.2)})
    t3 = ints(4, 2, 3)
    t3[1, 2] = -100
    fx.case("ce_nd_none", none, {"x": rn(2, 4, 3), "t": t3},
            lambda m, x, t: {"loss": F.cross_entropy(x, t.long(), reduction="none", label_smoothing=0.1)})
    fx.case("ce_nd_sum", none, {"x": rn(2, 4, 3), "t": t3}, lambda m, x, t: {"loss": F.cross_entropy(x, t.long(), reduction="sum")})
    fx.case("ce_probs", none, {"x": rn(3, 4), "p": torch.softmax(rn(3, 4), 1)},
            lambda m, x, p: {"loss": F.cross_entropy(x, p, label_smoothing=0.1)})
    w2 = const(fx, "nll_weight", "w", torch.rand(5) + 0.5)
    fx.case("nll_weight", none, {"x": torch.log_softmax(rn(6, 5), 1), "t": t},
            lambda m, x, t: {"loss": F.nll_loss(x, t.long(), weight=w2)})
    fx.case("mse", none, {"x": rn(3, 4), "y": rn(3, 4)}, lambda m, x, y: {"loss": F.mse_loss(x, y)})
    fx.case("mse_none", none, {"x": rn(3, 4), "y": rn(3, 4)}, lambda m, x, y: {"loss": F.mse_loss(x, y, reduction="none")})
    fx.case("bce_logits", none, {"x": rn(3, 4) * 4, "y": torch.rand(3, 4)},
            lambda m, x, y: {"loss": F.binary_cross_entropy_with_logits(x, y)})
    pw = const(fx, "bce_logits_pos_weight", "pw", torch.rand(4) * 3)
    ew = const(fx, "bce_logits_pos_weight", "w", torch.rand(3, 1))
    fx.case("bce_logits_pos_weight", none, {"x": rn(3, 4) * 4, "y": (torch.rand(3, 4) > 0.5).float()},
            lambda m, x, y: {"loss": F.binary_cross_entropy_with_logits(x, y, weight=ew, pos_weight=pw, reduction="sum")})


if __name__ == "__main__":
    torch.manual_seed(3)
    fx = Fixture()
    gen_layers(fx)
    gen_losses(fx)
    fx.write("layers.safetensors")
