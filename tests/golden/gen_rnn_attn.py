"""PyTorch goldens for zhuyi's recurrent, attention and Transformer layers.

Run with Debian's PyTorch 1.13: /usr/bin/python3 tests/golden/gen_rnn_attn.py
Writes tests/golden/{rnn,attention,transformer}.safetensors. Each case NAME holds
  NAME/param/KEY   the module's state_dict (F32), in state_dict order (also listed in __metadata__)
  NAME/in/X        inputs (F32; masks BOOL; lengths I32)
  NAME/w/Y         weights w of the loss sum_Y sum(w_Y * Y) (F32)
  NAME/out/Y       outputs (F64), NAME/grad/in/X and NAME/grad/param/KEY gradients of the loss (F64).
Weights and inputs are float32 values; the reference runs in float64, so the fixtures hold the
exact answer for those float32 values and zhuyi's float32 result is compared to it.
Dropout is 0 and modules are in eval mode.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DT = {np.float32: "F32", np.float64: "F64", np.int32: "I32", np.bool_: "BOOL"}


def write_safetensors(path, tensors, metadata):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, arr in tensors.items():
        arr = np.array(arr, order="C")  # (ascontiguousarray would turn a 0-d array into shape [1])
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DT[arr.dtype.type], "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


class Fixture:
    def __init__(self):
        self.tensors, self.cases = {}, {}

    def case(self, name, module, inputs, run, extra=None):
        """inputs: name -> float32 tensor (grad) or bool/int tensor; run(module, **double inputs) -> dict of outputs."""
        module = module.float().eval()
        sd = module.state_dict()
        keys = list(sd.keys())
        for k, v in sd.items():
            self.tensors[f"{name}/param/{k}"] = v.detach().numpy().astype(np.float32)
        module = module.double()
        args = {}
        for k, v in inputs.items():
            if v.dtype == torch.float32:
                self.tensors[f"{name}/in/{k}"] = v.numpy()
                args[k] = v.double().requires_grad_(True)
            else:
                self.tensors[f"{name}/in/{k}"] = v.numpy().astype(np.bool_ if v.dtype == torch.bool else np.int32)
                args[k] = v
        outs = run(module, **args)
        loss = 0
        for k, y in outs.items():
            w = torch.randn(y.shape)
            self.tensors[f"{name}/w/{k}"] = w.numpy()
            self.tensors[f"{name}/out/{k}"] = y.detach().numpy()
            loss = loss + (w.double() * y).sum()
        params = dict(module.named_parameters())
        grad_in = [a for a in args.values() if a.dtype == torch.float64]
        grads = torch.autograd.grad(loss, grad_in + list(params.values()), allow_unused=True)
        names = [k for k, a in args.items() if a.dtype == torch.float64] + list(params.keys())
        for i, (k, g) in enumerate(zip(names, grads)):
            kind = "in" if i < len(grad_in) else "param"
            ref = args[k] if kind == "in" else params[k]
            self.tensors[f"{name}/grad/{kind}/{k}"] = (torch.zeros_like(ref) if g is None else g).detach().numpy()
        self.cases[name] = {"keys": keys, "outputs": list(outs.keys()), **(extra or {})}

    def write(self, fname):
        write_safetensors(os.path.join(HERE, fname), self.tensors, {"torch": torch.__version__, "cases": json.dumps(self.cases)})
        print(fname, os.path.getsize(os.path.join(HERE, fname)), "bytes,", len(self.cases), "cases")


def rn(*shape):
    return torch.randn(*shape)


def causal_bool(T, S=None):
    return torch.triu(torch.ones(T, S or T, dtype=torch.bool), 1)


# ---- recurrent ---------------------------------------------------------------------------------


def packed(rnn, x, hx, lengths, batch_first):
    p = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    out, h = rnn(p, hx)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=x.shape[1 if batch_first else 0])
    return out, h


def gen_rnn():
    torch.manual_seed(1)
    fx = Fixture()
    fx.case("gru_cell", nn.GRUCell(3, 4), {"x": rn(2, 3), "h": rn(2, 4)}, lambda m, x, h: {"h1": m(x, h)})
    fx.case("lstm_cell", nn.LSTMCell(3, 4), {"x": rn(2, 3), "h": rn(2, 4), "c": rn(2, 4)},
            lambda m, x, h, c: dict(zip(["h1", "c1"], m(x, (h, c)))))
    lengths = torch.tensor([5, 2, 3], dtype=torch.int32)

    def gru_bi(m, x, h0, lengths):
        out, h = packed(m, x, h0, lengths.long(), False)
        return {"output": out, "h_n": h}
    fx.case("gru_bi2", nn.GRU(3, 4, num_layers=2, bidirectional=True),
            {"x": rn(5, 3, 3), "h0": rn(4, 3, 4), "lengths": lengths}, gru_bi)

    def lstm_bi(m, x, h0, c0, lengths):
        out, (h, c) = packed(m, x, (h0, c0), lengths.long(), True)
        return {"output": out, "h_n": h, "c_n": c}
    fx.case("lstm_bi2_bf", nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
            {"x": rn(3, 5, 3), "h0": rn(4, 3, 4), "c0": rn(4, 3, 4), "lengths": torch.tensor([3, 5, 1], dtype=torch.int32)}, lstm_bi)

    def plain_gru(m, x):
        out, h = m(x)
        return {"output": out, "h_n": h}
    fx.case("gru_nobias", nn.GRU(3, 4, bias=False), {"x": rn(4, 2, 3)}, plain_gru)

    def plain_lstm(m, x, h0, c0):
        out, (h, c) = m(x, (h0, c0))
        return {"output": out, "h_n": h, "c_n": c}
    fx.case("lstm_2layer", nn.LSTM(3, 4, num_layers=2), {"x": rn(4, 2, 3), "h0": rn(2, 2, 4), "c0": rn(2, 2, 4)}, plain_lstm)
    fx.write("rnn.safetensors")


# ---- attention ---------------------------------------------------------------------------------


class Additive(nn.Module):
    """Bahdanau: e = v^T tanh(W q + U k), the layout zhuyi's AdditiveAttention uses."""

    def __init__(self, dq, dk, a, bias):
        super().__init__()
        self.W, self.U, self.v = nn.Linear(dq, a, bias=False), nn.Linear(dk, a, bias=bias), nn.Linear(a, 1, bias=False)

    def scores(self, q, k):
        return self.v(torch.tanh(self.W(q).unsqueeze(2) + self.U(k).unsqueeze(1))).squeeze(3)


class Luong(nn.Module):
    def __init__(self, score, dq, dk, a):
        super().__init__()
        self.score = score
        if score == "general":
            self.W = nn.Linear(dk, dq, bias=False)
        if score == "concat":
            self.W, self.v = nn.Linear(dq + dk, a, bias=False), nn.Linear(a, 1, bias=False)

    def scores(self, q, k):
        if self.score == "dot":
            return q @ k.transpose(1, 2)
        if self.score == "general":
            return q @ self.W(k).transpose(1, 2)
        T, S = q.shape[1], k.shape[1]
        cat = torch.cat([q.unsqueeze(2).expand(-1, -1, S, -1), k.unsqueeze(1).expand(-1, T, -1, -1)], -1)
        return self.v(torch.tanh(self.W(cat))).squeeze(3)


def seq_attention(m, query, keys, values=None, kpm=None, mask=None):
    single = query.dim() == 2
    q = query.unsqueeze(1) if single else query
    s = m.scores(q, keys)
    if kpm is not None:
        s = s.masked_fill(kpm.unsqueeze(1), float("-inf"))
    if mask is not None:
        s = s.masked_fill(mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    w = torch.softmax(s, -1)
    c = w @ (keys if values is None else values)
    return {"context": c.squeeze(1) if single else c, "weights": w.squeeze(1) if single else w}


def gen_attention():
    torch.manual_seed(2)
    fx = Fixture()
    kpm = torch.tensor([[False, False, False, True], [False, False, False, False]])

    def mha_self(m, x, kpm, mask):
        out, w = m(x, x, x, key_padding_mask=kpm, attn_mask=mask)
        return {"output": out, "weights": w}
    fx.case("mha_self", nn.MultiheadAttention(8, 2), {"x": rn(4, 2, 8), "kpm": kpm, "mask": causal_bool(4)}, mha_self)

    def mha_cross(m, q, k, v, kpm, mask):
        out, w = m(q, k, v, key_padding_mask=kpm, attn_mask=mask, average_attn_weights=False)
        return {"output": out, "weights": w}
    fx.case("mha_cross_heads", nn.MultiheadAttention(8, 2, batch_first=True),
            {"q": rn(2, 3, 8), "k": rn(2, 4, 8), "v": rn(2, 4, 8), "kpm": kpm, "mask": rn(3, 4)}, mha_cross)

    mask3 = torch.zeros(4, 3, 4, dtype=torch.bool)
    mask3[1, :, 0] = True
    mask3[2, 2, 1:3] = True
    fx.case("mha_kvdim", nn.MultiheadAttention(8, 2, kdim=5, vdim=6, bias=False),
            {"q": rn(3, 2, 8), "k": rn(4, 2, 5), "v": rn(4, 2, 6), "kpm": kpm, "mask": mask3}, mha_cross)

    def sdpa(m, q, k, v):
        T, S, D = q.shape[-2], k.shape[-2], q.shape[-1]
        s = (q * 0.7) @ k.transpose(-2, -1)
        w = torch.softmax(s.masked_fill(causal_bool(T, S), float("-inf")), -1)
        return {"output": w @ v}
    fx.case("sdpa_causal", nn.Module(), {"q": rn(2, 2, 3, 4), "k": rn(2, 2, 4, 4), "v": rn(2, 2, 4, 5)}, sdpa)

    def additive(m, q, k, v, kpm):
        return seq_attention(m, q, k, v, kpm=kpm)
    fx.case("additive_seq", Additive(4, 5, 6, True), {"q": rn(2, 3, 4), "k": rn(2, 4, 5), "v": rn(2, 4, 6), "kpm": kpm}, additive)
    fx.case("additive_step", Additive(4, 5, 6, False), {"q": rn(2, 4), "k": rn(2, 4, 5)},
            lambda m, q, k: seq_attention(m, q, k))

    def luong(m, q, k, kpm, mask):
        return seq_attention(m, q, k, kpm=kpm, mask=mask)
    for score, dk in [("dot", 4), ("general", 5), ("concat", 5)]:
        fx.case(f"luong_{score}", Luong(score, 4, dk, 6), {"q": rn(2, 3, 4), "k": rn(2, 4, dk), "kpm": kpm, "mask": causal_bool(3, 4)}, luong)
    fx.write("attention.safetensors")


# ---- Transformer -------------------------------------------------------------------------------


def capture(module):
    """Makes every MultiheadAttention inside `module` also return and record per-head weights (B, H, T, S)."""
    store = []
    for m in module.modules():
        if isinstance(m, nn.MultiheadAttention):
            def f(*a, _orig=m.forward, **kw):
                kw["need_weights"], kw["average_attn_weights"] = True, False
                out, w = _orig(*a, **kw)
                store.append(w)
                return out, w
            m.forward = f
    return store


def gen_transformer():
    torch.manual_seed(3)
    fx = Fixture()
    kpm = torch.tensor([[False, False, False, True], [False, False, False, False]])
    sq = nn.Transformer.generate_square_subsequent_mask

    def encoder(m, x, kpm):
        store = capture(m)
        out = m(x, mask=sq(4).double(), src_key_padding_mask=kpm)
        return {"output": out, **{f"attn{i}": w for i, w in enumerate(store)}}
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    fx.case("enc_post_relu", nn.TransformerEncoder(layer, 2), {"x": rn(4, 2, 8), "kpm": kpm}, encoder)

    def encoder_bf(m, x, kpm):
        store = capture(m)
        out = m(x, src_key_padding_mask=kpm)
        return {"output": out, **{f"attn{i}": w for i, w in enumerate(store)}}
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
    fx.case("enc_pre_gelu_bf", nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8)), {"x": rn(2, 4, 8), "kpm": kpm}, encoder_bf)

    def decoder_layer(m, tgt, memory, kpm):
        store = capture(m)
        out = m(tgt, memory, tgt_mask=sq(3).double(), memory_key_padding_mask=kpm)
        return {"output": out, "self_attn": store[0], "cross_attn": store[1]}
    fx.case("dec_layer_post", nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0),
            {"tgt": rn(3, 2, 8), "memory": rn(4, 2, 8), "kpm": kpm}, decoder_layer)

    def transformer(m, src, tgt, kpm):
        store = capture(m)
        out = m(src, tgt, tgt_mask=sq(3).double(), src_key_padding_mask=kpm, memory_key_padding_mask=kpm)
        return {"output": out, "enc_attn": store[0], "dec_self_attn": store[1], "dec_cross_attn": store[2]}
    fx.case("transformer_pre_gelu", nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, activation="gelu", batch_first=True, norm_first=True),
            {"src": rn(2, 4, 8), "tgt": rn(2, 3, 8), "kpm": kpm}, transformer)

    # Vaswani's sinusoids, in float64 (odd width checks the last sin column).
    pos = torch.arange(6, dtype=torch.float64)[:, None]
    i = torch.arange(7, dtype=torch.float64)[None, :]
    angle = pos / torch.pow(10000.0, (2 * torch.div(i, 2, rounding_mode="floor")) / 7)
    fx.tensors["pe/out/pe"] = torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle)).numpy()
    fx.write("transformer.safetensors")


if __name__ == "__main__":
    gen_rnn()
    gen_attention()
    gen_transformer()
