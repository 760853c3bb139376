"""Golden fixtures for the op suite: inputs, PyTorch outputs and PyTorch gradients.

Run with Debian's torch:  /usr/bin/python3 tests/golden/gen_ops.py
Writes tests/golden/ops.json. Each case: name, inputs (data, shape, dtype, grad flag), output,
and for differentiable cases the gradient of sum(w * out) w.r.t. each float input, with w stored.
The TypeScript side (tests/ops/cases.ts) defines the same computation under the same name.

Encoding: float64 values as JSON numbers, NaN and infinities as the strings 'NaN', 'Infinity',
'-Infinity'; PyTorch int64 tensors are recorded with dtype 'int32' (zhuyi's index dtype; compared
as values); bool as 0/1. Deterministic: one seed, cases drawn in file order, so rerunning gives a
byte-identical file. Append new cases at the end of a section; the values of later cases shift.
"""
import json, math, os
import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
F = torch.nn.functional

def rn(*s): return torch.randn(s)
def pos(*s): return torch.rand(s) + 0.5
def ints(lo, hi, *s): return torch.randint(lo, hi, s, dtype=torch.int64)

CASES = []
def case(name, inputs, fn, grad=True):
    CASES.append((name, inputs, fn, grad))

# elementwise
case('add', [rn(2, 3), rn(2, 3)], lambda a, b: a + b)
case('add_broadcast', [rn(3, 1, 4), rn(5, 1)], lambda a, b: a + b)
case('add_scalar_alpha', [rn(4), rn(4)], lambda a, b: torch.add(a, b, alpha=2.5) + 3)
case('sub_broadcast', [rn(2, 3), rn(3)], lambda a, b: a - b)
case('mul_broadcast', [rn(2, 1, 3), rn(4, 1)], lambda a, b: a * b)
case('div', [rn(2, 3), pos(2, 3)], lambda a, b: a / b)
case('div_rank0', [rn(2, 3), pos()], lambda a, b: a / b)
case('pow', [pos(2, 3), rn(2, 3)], lambda a, b: a ** b)
case('pow_scalar', [rn(5)], lambda a: a ** 3)
case('neg', [rn(4)], lambda a: -a)
case('exp', [rn(2, 3)], torch.exp)
case('log', [pos(2, 3)], torch.log)
case('sqrt', [pos(2, 3)], torch.sqrt)
case('rsqrt', [pos(2, 3)], torch.rsqrt)
case('reciprocal', [pos(5)], torch.reciprocal)
case('tanh', [rn(2, 3)], torch.tanh)
case('sigmoid', [rn(2, 3)], torch.sigmoid)
case('relu', [rn(3, 4)], torch.relu)
case('gelu', [rn(3, 4) * 2], F.gelu)
case('gelu_tanh', [rn(3, 4) * 2], lambda a: F.gelu(a, approximate='tanh'))
case('erf', [rn(3, 4) * 2], torch.erf)
case('abs', [rn(3, 4)], torch.abs)
case('sign', [torch.tensor([-2.0, 0.0, 3.0])], torch.sign, grad=False)
case('sin', [rn(5)], torch.sin)
case('cos', [rn(5)], torch.cos)
case('maximum', [rn(2, 3), rn(3)], torch.maximum)
case('minimum', [rn(2, 3), rn(2, 1)], torch.minimum)
case('maximum_ties', [torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 5.0, 3.0])], torch.maximum)
case('clamp', [rn(10)], lambda a: torch.clamp(a, -0.5, 0.7))
case('clamp_min', [rn(10)], lambda a: torch.clamp(a, min=0.1))
for op in ['eq', 'ne', 'lt', 'le', 'gt', 'ge']:
    case(op, [torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]), torch.tensor([2.0, 2.0, 2.0])], getattr(torch, op), grad=False)
case('logical', [torch.tensor([True, True, False, False]), torch.tensor([True, False, True, False])],
     lambda a, b: torch.stack([a & b, a | b, ~a]), grad=False)
case('where', [torch.tensor([[True, False, True]]), rn(2, 3), rn(3)], lambda c, a, b: torch.where(c, a, b))
case('masked_fill', [rn(2, 3), torch.tensor([[False, True, False]])], lambda a, m: a.masked_fill(m, -1e9))
# reductions
case('sum_all', [rn(3, 4)], lambda a: a.sum())
case('sum_dims_keepdim', [rn(2, 3, 4)], lambda a: a.sum(dim=(0, -1), keepdim=True))
case('sum_neg_dim', [rn(2, 3, 4)], lambda a: a.sum(-2))
case('mean', [rn(2, 3, 4)], lambda a: a.mean(1))
case('mean_all', [rn(2, 3)], lambda a: a.mean())
case('amax', [rn(3, 4)], lambda a: a.amax(1))
case('amax_ties', [torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], lambda a: a.amax(1))
case('amin_keepdim', [rn(3, 4)], lambda a: a.amin(0, keepdim=True))
case('max_all_ties', [torch.tensor([1.0, 4.0, 4.0, 2.0])], lambda a: a.max())
case('max_dim_values', [rn(3, 5)], lambda a: a.max(1).values)
case('max_dim_indices', [rn(3, 5)], lambda a: a.max(1).indices, grad=False)
case('min_dim_values', [rn(3, 5)], lambda a: a.min(0, keepdim=True).values)
case('argmax', [rn(3, 5)], lambda a: a.argmax(-1), grad=False)
case('argmax_flat', [rn(3, 5)], lambda a: a.argmax(), grad=False)
case('argmin', [rn(3, 5)], lambda a: a.argmin(0), grad=False)
case('topk_values', [rn(3, 6)], lambda a: a.topk(3, dim=-1).values)
case('topk_indices_smallest', [rn(3, 6)], lambda a: a.topk(2, dim=0, largest=False).indices, grad=False)
case('softmax', [rn(3, 5)], lambda a: a.softmax(-1))
case('softmax_dim0', [rn(3, 5)], lambda a: a.softmax(0))
case('softmax_large', [torch.tensor([[1000.0, 1000.0], [1000.0, -1000.0]])], lambda a: a.softmax(-1))
case('softmax_masked_row', [torch.tensor([[0.5, float('-inf'), 1.0], [float('-inf'), float('-inf'), float('-inf')]])], lambda a: a.softmax(-1), grad=False)
case('log_softmax', [rn(3, 5)], lambda a: a.log_softmax(1))
case('log_softmax_large', [torch.tensor([1000.0, 0.0, -1000.0])], lambda a: a.log_softmax(0))
# movement
case('reshape', [rn(2, 6)], lambda a: a.reshape(3, -1) * torch.arange(12.0).reshape(3, 4))
case('view_flatten', [rn(2, 3, 4)], lambda a: a.flatten(1) * torch.arange(12.0))
case('squeeze_unsqueeze', [rn(2, 1, 3)], lambda a: a.squeeze(1).unsqueeze(0).unsqueeze(-1))
case('permute', [rn(2, 3, 4)], lambda a: a.permute(2, 0, 1))
case('transpose', [rn(2, 3, 4)], lambda a: a.transpose(-1, 0))
case('expand', [rn(3, 1)], lambda a: a.expand(2, 3, 4))
case('broadcast_to', [rn(1, 4)], lambda a: torch.broadcast_to(a, (3, 4)))
case('slice', [rn(4, 5)], lambda a: a[1:3, -3:])
case('narrow', [rn(4, 5)], lambda a: a.narrow(1, 1, 3))
case('cat', [rn(2, 3), rn(2, 2)], lambda a, b: torch.cat([a, b, a], 1))
case('stack', [rn(2, 3), rn(2, 3)], lambda a, b: torch.stack([a, b], -1))
case('split', [rn(5, 2)], lambda a: torch.cat([p * (i + 1) for i, p in enumerate(a.split(2, 0))], 0))
case('split_sections', [rn(2, 6)], lambda a: torch.cat([p * (i + 1) for i, p in enumerate(a.split([1, 2, 3], 1))], 1))
case('chunk', [rn(7, 2)], lambda a: torch.cat([p * (i + 1) for i, p in enumerate(a.chunk(3, 0))], 0))
case('pad', [rn(2, 3)], lambda a: F.pad(a, (1, 2, 0, 1), value=0.5))
# indexing
case('gather', [rn(3, 4), ints(0, 4, 3, 2)], lambda a, i: torch.gather(a, 1, i))
case('gather_dim0_repeats', [rn(3, 4), torch.tensor([[0, 0, 2, 1], [0, 0, 0, 0]])], lambda a, i: torch.gather(a, 0, i))
case('index_select', [rn(5, 3), torch.tensor([4, 0, 4, 2])], lambda a, i: a.index_select(0, i))
case('index_select_dim1', [rn(2, 5, 3), torch.tensor([1, 1, 3])], lambda a, i: a.index_select(1, i))
case('scatter_add', [rn(3, 4), torch.tensor([[0, 1, 2, 0], [0, 0, 0, 0]]), rn(2, 4)], lambda a, i, s: a.scatter_add(0, i, s))
case('one_hot', [torch.tensor([0, 2, 1, 2])], lambda i: F.one_hot(i, 4), grad=False)
# matmul
case('matmul_2d', [rn(3, 4), rn(4, 5)], torch.matmul)
case('matmul_vec_vec', [rn(4), rn(4)], torch.matmul)
case('matmul_mat_vec', [rn(3, 4), rn(4)], torch.matmul)
case('matmul_vec_mat', [rn(4), rn(4, 2)], torch.matmul)
case('matmul_batched', [rn(2, 3, 4), rn(2, 4, 5)], torch.matmul)
case('matmul_broadcast', [rn(2, 1, 3, 4), rn(3, 4, 2)], torch.matmul)
case('matmul_batched_vec', [rn(2, 3, 4), rn(4)], torch.matmul)
case('tril', [rn(2, 4, 4)], lambda a: a.tril())
case('triu_k', [rn(3, 5)], lambda a: a.triu(1))
case('tril_neg_k', [rn(4, 3)], lambda a: a.tril(-1))
case('layer_norm', [rn(2, 3, 5), rn(5), rn(5)], lambda x, w, b: F.layer_norm(x, (5,), w, b, 1e-5))
case('layer_norm_2d_noaffine', [rn(2, 3, 4)], lambda x: F.layer_norm(x, (3, 4)))
case('dropout_eval', [rn(3, 4)], lambda x: F.dropout(x, 0.5, training=False))

# ---- dtypes: PyTorch's int64 results compare as values against zhuyi's int32 ----------------------
def I(*v): return torch.tensor(v, dtype=torch.int64)
def B(*v): return torch.tensor(v, dtype=torch.bool)
case('add_int_broadcast', [ints(-5, 5, 2, 3), ints(-5, 5, 3)], lambda a, b: a + b, grad=False)
case('sub_mul_int', [ints(-5, 5, 2, 3), ints(-5, 5, 2, 1)], lambda a, b: (a - b) * b, grad=False)
case('unary_int', [ints(-5, 5, 6)], lambda a: torch.stack([-a, a.abs(), a.relu(), a.sign(), a.clamp(-2, 3)]), grad=False)
case('maximum_minimum_int', [ints(-5, 5, 2, 3), ints(-5, 5, 3)], lambda a, b: torch.stack([torch.maximum(a, b), torch.minimum(a, b)]), grad=False)
case('sum_int', [ints(-5, 5, 3, 4)], lambda a: a.sum(1), grad=False)
case('sum_bool', [B([True, False, True], [True, True, False])], lambda a: a.sum(0), grad=False)
case('amax_amin_int', [ints(-9, 9, 3, 4)], lambda a: torch.stack([a.amax(0), a.amin(0)]), grad=False)
case('argmax_int', [ints(-9, 9, 3, 4)], lambda a: a.argmax(1), grad=False)
case('matmul_int', [ints(-3, 3, 2, 3), ints(-3, 3, 3, 2)], torch.matmul, grad=False)
case('compare_int_float', [ints(0, 3, 2, 3), torch.tensor([0.5, 1.0, 2.0])], lambda a, b: torch.stack([a < b, a <= b, a == b, a >= b]), grad=False)
case('compare_bool', [B(True, True, False, False), B(True, False, True, False)], lambda a, b: torch.stack([a == b, a != b]), grad=False)
case('logical_int', [I(-1, 0, 2, 0), I(1, 1, 0, 0)], lambda a, b: torch.stack([torch.logical_and(a, b), torch.logical_or(a, b), torch.logical_not(a)]), grad=False)
case('where_int', [B([True], [False]), ints(-5, 5, 1, 3), ints(-5, 5, 2, 1)], lambda c, a, b: torch.where(c, a, b), grad=False)
case('movement_int', [ints(-5, 5, 2, 3)], lambda a: torch.cat([a.permute(1, 0), a.t()[:, 1:]], 1).reshape(-1, 9).expand(2, 9), grad=False)
case('tril_int', [ints(1, 9, 3, 3)], lambda a: a.tril(-1) + a.triu(1) * 10, grad=False)
case('pad_int', [ints(1, 9, 2, 2)], lambda a: F.pad(a, (1, 0, 0, 1), value=7), grad=False)
case('mul_int_float', [ints(-3, 3, 2, 3), rn(3)], lambda a, b: a * b)
case('one_hot_default_classes', [I(0, 3, 1, 1)], lambda i: F.one_hot(i), grad=False)
case('index_select_int_data', [ints(0, 9, 4, 2), I(3, 0, 3)], lambda a, i: a.index_select(0, i), grad=False)

# ---- ties: how PyTorch 1.13 splits (or routes) gradients --------------------------------------------
case('minimum_ties', [torch.tensor([1.0, 2.0, -3.0]), torch.tensor([1.0, 0.0, -3.0])], torch.minimum)
case('amin_ties', [torch.tensor([[1.0, -3.0, -3.0, 0.0], [5.0, 5.0, 5.0, 5.0]])], lambda a: a.amin(-1))
case('amax_ties_multi_dim', [torch.tensor([[[1.0, 4.0], [4.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]]])], lambda a: a.amax((1, 2), keepdim=True))
case('max_dim_ties', [torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], lambda a: a.max(1).values)
case('max_dim_ties_indices', [torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], lambda a: a.max(1).indices, grad=False)
case('min_dim_ties', [torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 5.0]])], lambda a: a.min(0).values)
case('min_all_ties', [torch.tensor([[1.0, 0.0], [0.0, 2.0]])], lambda a: a.min())
case('argmax_argmin_ties', [torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], lambda a: torch.stack([a.argmax(1), a.argmin(1)]), grad=False)
case('clamp_at_bounds', [torch.tensor([-1.0, -0.5, 0.0, 0.7, 1.0])], lambda a: a.clamp(-0.5, 0.7))
case('relu_abs_at_zero', [torch.tensor([-1.0, 0.0, 2.0])], lambda a: torch.stack([a.relu(), a.abs()]))

# ---- numerical edges --------------------------------------------------------------------------------
inf = float('inf')
case('softmax_partial_mask_grad', [torch.tensor([[0.5, -inf, 1.0, 2.0], [-inf, 3.0, -inf, 0.0]])], lambda a: a.softmax(-1))
case('log_softmax_masked', [torch.tensor([[0.5, -inf, 1.0], [-inf, -inf, -inf]])], lambda a: a.log_softmax(-1), grad=False)
case('softmax_3d_middle', [rn(2, 3, 4)], lambda a: a.softmax(1))
case('softmax_single', [rn(3, 1)], lambda a: a.softmax(-1))
case('saturated', [torch.tensor([-100.0, -20.0, 0.0, 20.0, 100.0])], lambda a: torch.stack([a.sigmoid(), a.tanh(), F.gelu(a), F.gelu(a, approximate='tanh'), torch.erf(a)]))
case('exp_log_extremes', [torch.tensor([0.0, 1.0, inf, -1000.0, 1000.0])], lambda a: torch.stack([a.exp(), a.log(), a.sqrt(), a.rsqrt()]), grad=False)
case('div_by_zero', [torch.tensor([1.0, -1.0, 0.0]), torch.tensor([0.0, 0.0, 0.0])], lambda a, b: a / b, grad=False)
case('pow_zero_base', [torch.tensor([0.0, 1.0, 2.0, 0.0]), torch.tensor([2.0, 0.0, 0.5, 0.0])], lambda a, b: a ** b)
case('pow_negative_base', [torch.tensor([-2.0, -0.5, 3.0])], lambda a: torch.stack([a ** 2, a ** 3, a ** -1.0]))
case('pow_fractional_negative_base', [torch.tensor([-2.0, 4.0])], lambda a: a ** 0.5, grad=False)
case('nan_propagation', [torch.tensor([[1.0, float('nan'), 3.0], [4.0, 5.0, 6.0]]), torch.tensor([2.0, 2.0, 2.0])],
     lambda a, b: torch.cat([torch.maximum(a, b), torch.minimum(a, b), a.amax(1, keepdim=True), a.sum(1, keepdim=True), a.relu()], 1), grad=False)
case('layer_norm_constant_row', [torch.tensor([[2.0, 2.0, 2.0, 2.0], [1.0, -1.0, 0.5, 3.0]]), rn(4), rn(4)], lambda x, w, b: F.layer_norm(x, (4,), w, b, 1e-5))

# ---- broadcasting corners, negative axes, keepdim -----------------------------------------------------
case('rank0_ops', [rn(), rn()], lambda a, b: torch.stack([a * b, a - b, a.exp(), torch.maximum(a, b)]))
case('broadcast_both_sides', [rn(1, 3, 1), rn(2, 1, 4)], lambda a, b: a * b)
case('broadcast_rank0_with_matrix', [rn(), rn(2, 3)], lambda a, b: b - a)
case('where_broadcast_cond', [B([True], [False]), rn(1, 3), rn(2, 1)], lambda c, a, b: torch.where(c, a, b))
case('where_scalar_other', [B(True, False, True), rn(3)], lambda c, a: torch.where(c, a, 0.0))
case('scalar_lhs', [pos(3)], lambda a: torch.stack([1 - a, 2 / a, 2 ** a, torch.sub(a, a * a, alpha=2)]))
case('mean_multi_keepdim', [rn(2, 3, 4)], lambda a: a.mean((-1, 0), keepdim=True))
case('sum_neg_keepdim', [rn(2, 3)], lambda a: a.sum(-1, keepdim=True))
case('max_dim_keepdim_neg', [rn(2, 3, 4)], lambda a: a.max(-2, keepdim=True).values)
case('topk_k1_dim0', [rn(4, 3)], lambda a: a.topk(1, 0).values)
case('topk_all', [rn(2, 5)], lambda a: a.topk(5, -1).values)
case('view', [rn(2, 6)], lambda a: a.view(4, 3) * torch.arange(12.0).reshape(4, 3))
case('expand_keep_and_new', [rn(3, 1)], lambda a: a.expand(2, -1, 4))
case('squeeze_all_and_neg', [rn(1, 3, 1, 2)], lambda a: torch.stack([a.squeeze(), a.squeeze(-2).squeeze(0)]))
case('narrow_neg', [rn(4, 5)], lambda a: a.narrow(-1, -3, 2))
case('slice_step_clamped', [rn(4, 5)], lambda a: a[-10:2, 3:100])
case('cat_neg_dim', [rn(2, 3), rn(1, 3)], lambda a, b: torch.cat([a, b], -2))
case('stack_dim0', [rn(2, 3), rn(2, 3), rn(2, 3)], lambda a, b, c: torch.stack([a, b, c]))
case('pad_3d', [rn(2, 2, 3)], lambda a: F.pad(a, (0, 1, 1, 0, 2, 1)))
case('gather_neg_dim', [rn(2, 3, 4), ints(0, 3, 2, 2, 4)], lambda a, i: torch.gather(a, -2, i))
case('scatter_add_dim1', [rn(2, 5), torch.tensor([[0, 4, 4], [1, 1, 0]]), rn(2, 3)], lambda a, i, s: a.scatter_add(1, i, s))
case('matmul_vec_batched', [rn(4), rn(2, 4, 3)], torch.matmul)
case('matmul_broadcast_both', [rn(3, 1, 2, 4), rn(1, 5, 4, 3)], torch.matmul)
# js gemm packs 4x4 blocks: 9x6 @ 6x10 has full blocks, a ragged row block and a ragged column block.
case('matmul_full_and_edge_blocks', [rn(9, 6), rn(6, 10)], torch.matmul)
case('transpose_mid', [rn(2, 3, 4, 2)], lambda a: a.transpose(1, -2))
case('cast_float_roundtrip', [rn(2, 3)], lambda a: a.float().double() * a)
case('layer_norm_2d_affine', [rn(2, 3, 4), rn(3, 4), rn(3, 4)], lambda x, w, b: F.layer_norm(x, (3, 4), w, b, 1e-5))
case('log_softmax_partial_mask_grad', [torch.tensor([[0.5, -inf, 1.0], [-inf, 2.0, 0.0]])], lambda a: a.log_softmax(-1))
case('cat_with_empty', [torch.zeros(0, 3), rn(2, 3)], lambda e, a: torch.cat([e, a, e], 0))
case('reduce_size1_dim', [rn(3, 1, 2)], lambda a: torch.cat([a.mean(1), a.sum(1), a.amax(1), a.softmax(1).squeeze(1)], 1))
case('sum_int_keepdim_neg', [ints(-5, 5, 2, 3, 2)], lambda a: a.sum((-1, 0), keepdim=True), grad=False)
case('dropout_p0_train', [rn(3, 4)], lambda x: F.dropout(x, 0.0, training=True))

# fused cross-entropy rows (zhuyi's softmaxCrossEntropy op, reached through crossEntropy on 2-D logits).
# Inputs drawn without the generator, so the weights w of the cases above keep their values.
case('cross_entropy_rows_smooth_ignore', [2 * torch.sin(torch.arange(30.0)).reshape(6, 5), torch.tensor([1, 4, -100, 0, 2, -100])],
     lambda a, t: F.cross_entropy(a, t, ignore_index=-100, label_smoothing=0.1, reduction='none'))
case('cross_entropy_rows_mean', [3 * torch.cos(torch.arange(28.0)).reshape(4, 7), torch.tensor([6, 0, 3, 3])], lambda a, t: F.cross_entropy(a, t))
case('cross_entropy_rows_large_logits', [torch.tensor([[1000.0, 0.0, -1000.0], [3.0, 3.0, 3.0]]), torch.tensor([2, 1])],
     lambda a, t: F.cross_entropy(a, t, label_smoothing=0.3, reduction='sum'))

# whole-sequence recurrent layers (zhuyi's gru / lstm ops): one layer, both directions, padded rows
# (lengths as pack_padded_sequence takes them). Output [h_n; (c_n;) y], y (T, D, B, H), as the op
# packs it. Inputs drawn without the generator, as above.
def wave(scale, k, *s): return scale * torch.sin(k * torch.arange(1.0, 1.0 + math.prod(s))).reshape(s)
def rnn_packed(mode):
    def fn(x, wih, whh, bih, bhh, h0, *rest):
        T, B, I = x.shape
        D, _, H = whh.shape
        m = (torch.nn.GRU if mode == 'gru' else torch.nn.LSTM)(I, H, bidirectional=D == 2)
        with torch.no_grad():
            for d, sfx in enumerate(['_l0', '_l0_reverse'][:D]):
                for name, w in [('weight_ih', wih), ('weight_hh', whh), ('bias_ih', bih), ('bias_hh', bhh)]:
                    getattr(m, name + sfx).copy_(w[d])
        lengths = rest[-1]
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        y, state = m(packed, h0 if mode == 'gru' else (h0, rest[0]))
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, total_length=T)
        finals = [state] if mode == 'gru' else list(state)
        return torch.cat([f.unsqueeze(0) for f in finals] + [y.reshape(T, B, D, H).permute(0, 2, 1, 3)], 0)
    return fn
case('gru_packed_bidirectional', [wave(1.0, 0.7, 4, 3, 2), wave(0.5, 1.3, 2, 9, 2), wave(0.5, 0.9, 2, 9, 3), wave(0.3, 2.1, 2, 9), wave(0.3, 1.7, 2, 9),
                                  wave(0.4, 0.5, 2, 3, 3), torch.tensor([4, 1, 3])], rnn_packed('gru'), grad=False)
case('lstm_packed_bidirectional', [wave(1.0, 0.3, 5, 2, 2), wave(0.5, 1.1, 2, 12, 2), wave(0.5, 0.8, 2, 12, 3), wave(0.3, 1.9, 2, 12), wave(0.3, 2.3, 2, 12),
                                   wave(0.4, 0.6, 2, 2, 3), wave(0.4, 1.4, 2, 2, 3), torch.tensor([2, 5])], rnn_packed('lstm'), grad=False)

def enc(v):
    if isinstance(v, float):
        if math.isnan(v): return 'NaN'
        if math.isinf(v): return 'Infinity' if v > 0 else '-Infinity'
    return v

def tensor_json(t):
    dt = {torch.float64: 'float64', torch.int64: 'int32', torch.bool: 'bool'}[t.dtype]
    vals = t.detach().reshape(-1).tolist()
    if t.dtype == torch.bool: vals = [int(v) for v in vals]
    return {'shape': list(t.shape), 'dtype': dt, 'data': [enc(float(v)) if dt == 'float64' else v for v in vals]}

out = []
for name, inputs, fn, want_grad in CASES:
    ins = [t.clone().requires_grad_(want_grad and t.is_floating_point()) for t in inputs]
    y = fn(*ins)
    rec = {'name': name, 'inputs': [tensor_json(t) for t in inputs], 'output': tensor_json(y)}
    if want_grad and y.is_floating_point() and any(t.requires_grad for t in ins):
        w = torch.randn(y.shape)
        grads = torch.autograd.grad((y * w).sum(), [t for t in ins if t.requires_grad], allow_unused=True)
        it = iter(grads)
        rec['w'] = tensor_json(w)
        rec['grads'] = [(lambda g: tensor_json(g) if g is not None else None)(next(it)) if t.requires_grad else None for t in ins]
    out.append(rec)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ops.json')
with open(path, 'w') as f:
    json.dump({'torch': torch.__version__, 'cases': out}, f, separators=(',', ':'))
print(f'wrote {len(out)} cases to {path} ({os.path.getsize(path)} bytes)')
