"""Golden outputs for zhuyi's BERT from a pure-PyTorch reference of Hugging Face's modeling_bert.py.

transformers is not installed here, so `Bert` below re-implements HF's BertModel forward with the same
operations in the same order (float32, eval mode: dropout is the identity):
  embeddings = LayerNorm((word + token_type) + position)          # eps = layer_norm_eps
  mask       = (1 - attention_mask[:, None, None, :]) * finfo(float32).min
  scores     = (Q @ K^T) / sqrt(D) + mask ; probs = softmax(scores) ; context = probs @ V
  attention  = LayerNorm(dense(context) + x) ; ffn = LayerNorm(dense(act(dense(a))) + a)
  pooler     = tanh(dense(h[:, 0]))
  heads      = HF's BertForPreTraining / MaskedLM / SequenceClassification / TokenClassification /
               QuestionAnswering / MultipleChoice, losses as HF computes them.

Writes
  tests/golden/bert/<tiny-*>/{config.json, model.safetensors}  small random checkpoints in HF layout
  tests/golden/bert_expected.json                              expected outputs for every case

Run with PyTorch (1.13 here):  /usr/bin/python3 tests/golden/gen_bert.py
The real checkpoints come from ../shared/data/tiny-bert-checkpoints (never copied into the repo); when
that folder is absent their cases are left out of the fixture.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'tiny-bert-checkpoints')
OUT_DIR = os.path.join(HERE, 'bert')

# ---- safetensors without the safetensors package ----------------------------------------------------

ST_DTYPES = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for k, e in header.items():
        if k == '__metadata__':
            continue
        b, en = e['data_offsets']
        out[k] = torch.from_numpy(np.frombuffer(data[b:en], dtype=ST_DTYPES[e['dtype']]).reshape(e['shape']).copy())
    return out


def write_safetensors(path, tensors, metadata=None):
    header = {'__metadata__': metadata} if metadata else {}
    blobs, off = [], 0
    for k in sorted(tensors):
        a = tensors[k].detach().contiguous().numpy().astype(np.float32)
        b = a.tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':'))
    h += ' ' * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h.encode())
        for b in blobs:
            f.write(b)


# ---- the reference model ----------------------------------------------------------------------------

ACT = {
    'gelu': lambda x: F.gelu(x),  # exact (erf), HF's GELUActivation
    'gelu_new': lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0)))),
    'relu': F.relu,
}


class Bert:
    """HF's BertModel forward over a state dict whose keys have no `bert.` prefix."""

    def __init__(self, cfg, sd):
        self.cfg, self.sd = cfg, sd
        self.eps = cfg.get('layer_norm_eps', 1e-12)
        self.act = ACT[cfg.get('hidden_act', 'gelu')]
        self.H = cfg['num_attention_heads']

    def lin(self, x, name):
        return F.linear(x, self.sd[name + '.weight'], self.sd.get(name + '.bias'))

    def ln(self, x, name):
        return F.layer_norm(x, (x.shape[-1],), self.sd[name + '.weight'], self.sd[name + '.bias'], self.eps)

    def __call__(self, ids, mask=None, types=None, positions=None):
        B, T = ids.shape
        sd = self.sd
        if positions is None:
            positions = torch.arange(T)[None, :]
        if types is None:
            types = torch.zeros_like(ids)
        e = F.embedding(ids, sd['embeddings.word_embeddings.weight'])
        e = e + F.embedding(types, sd['embeddings.token_type_embeddings.weight'])
        e = e + F.embedding(positions, sd['embeddings.position_embeddings.weight'])
        h = self.ln(e, 'embeddings.LayerNorm')
        ext = None
        if mask is not None:
            ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        states, attns = [h], []
        C = h.shape[-1]
        D = C // self.H
        for i in range(self.cfg['num_hidden_layers']):
            p = f'encoder.layer.{i}.'
            split = lambda x: x.view(B, T, self.H, D).permute(0, 2, 1, 3)
            q = split(self.lin(h, p + 'attention.self.query'))
            k = split(self.lin(h, p + 'attention.self.key'))
            v = split(self.lin(h, p + 'attention.self.value'))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D)
            if ext is not None:
                scores = scores + ext
            probs = F.softmax(scores, dim=-1)
            attns.append(probs)
            ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(B, T, C)
            a = self.ln(self.lin(ctx, p + 'attention.output.dense') + h, p + 'attention.output.LayerNorm')
            f = self.act(self.lin(a, p + 'intermediate.dense'))
            h = self.ln(self.lin(f, p + 'output.dense') + a, p + 'output.LayerNorm')
            states.append(h)
        pooled = torch.tanh(self.lin(h[:, 0], 'pooler.dense')) if 'pooler.dense.weight' in sd else None
        return h, pooled, states, attns


def strip(sd, prefix='bert.'):
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in sd.items()}


def mlm_logits(cfg, sd, h):
    act = ACT[cfg.get('hidden_act', 'gelu')]
    t = F.linear(h, sd['cls.predictions.transform.dense.weight'], sd['cls.predictions.transform.dense.bias'])
    t = F.layer_norm(act(t), (t.shape[-1],), sd['cls.predictions.transform.LayerNorm.weight'], sd['cls.predictions.transform.LayerNorm.bias'], cfg['layer_norm_eps'])
    return F.linear(t, sd['bert.embeddings.word_embeddings.weight'], sd['cls.predictions.bias'])  # tied decoder


# ---- fixtures ---------------------------------------------------------------------------------------

def rec(t):
    t = t.detach().to(torch.float32)
    return {'shape': list(t.shape), 'data': [float(f'{v:.9g}') for v in t.reshape(-1).tolist()]}


# Three sequences of length 7: full, padded after 4, padded after 6 with a second segment.
IDS = [[2, 11, 57, 98, 140, 33, 3], [2, 71, 6, 3, 0, 0, 0], [2, 200, 3, 45, 19, 3, 0]]
MASK = [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 0]]
TYPES = [[0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 0]]
INPUTS = {'inputIds': IDS, 'attentionMask': MASK, 'tokenTypeIds': TYPES}


def real_cases():
    if not os.path.isdir(SHARED):
        print(f'{SHARED} absent: real-checkpoint cases left out')
        return {}
    ids, mask, types = torch.tensor(IDS), torch.tensor(MASK), torch.tensor(TYPES)
    cases = {}
    with torch.no_grad():
        # 1) safetensors BertModel, no pooler, no prefix, 2 layers x 4 heads.
        d = os.path.join(SHARED, 'safetensors-bertmodel-h32-l2')
        cfg = json.load(open(os.path.join(d, 'config.json')))
        m = Bert(cfg, read_safetensors(os.path.join(d, 'model.safetensors')))
        h, _, states, attns = m(ids, mask, types)
        h0, _, _, _ = m(ids[:1])  # defaults: no mask, no token types
        pos = torch.tensor([[5, 6, 7, 8, 9, 10, 11]] * 3)
        hp, _, _, _ = m(ids, mask, types, pos)
        cases['safetensors-bertmodel-h32-l2'] = {
            'lastHiddenState': rec(h), 'hiddenStates': [rec(s) for s in states], 'attentions': [rec(a) for a in attns],
            'firstRowNoMask': rec(h0), 'positionIds': pos.tolist(), 'withPositionIds': rec(hp),
        }
        # 2) zip-format .bin BertForTokenClassification (bert. prefix, position_ids buffer in the file).
        d = os.path.join(SHARED, 'torchzip-bert-tokencls-h16-l1')
        cfg = json.load(open(os.path.join(d, 'config.json')))
        sd = torch.load(os.path.join(d, 'pytorch_model.bin'), map_location='cpu')
        h, _, _, _ = Bert(cfg, strip(sd))(ids, mask, types)
        logits = F.linear(h, sd['classifier.weight'], sd['classifier.bias'])
        labels = torch.tensor([[0, 3, 4, 0, 7, 8, -100], [-100, 1, 2, -100, -100, -100, -100], [0, 5, 6, 6, 0, 0, -100]])
        loss = F.cross_entropy(logits.view(-1, 9), labels.view(-1))
        cases['torchzip-bert-tokencls-h16-l1'] = {'lastHiddenState': rec(h), 'logits': rec(logits), 'labels': labels.tolist(), 'loss': float(loss)}
        # 3) legacy-pickle .bin BertModel with pooler, no prefix.
        d = os.path.join(SHARED, 'torchlegacy-bert-xsmall-dummy')
        cfg = json.load(open(os.path.join(d, 'config.json')))
        sd = torch.load(os.path.join(d, 'pytorch_model.bin'), map_location='cpu')
        h, pooled, _, _ = Bert(cfg, sd)(ids, mask, types)
        cases['torchlegacy-bert-xsmall-dummy'] = {'lastHiddenState': rec(h), 'poolerOutput': rec(pooled)}
    return cases


def random_sd(keys_shapes, gen):
    """Weights with O(1) spread (not HF's 0.02 init) so every parameter visibly moves the outputs."""
    sd = {}
    for k, shape in keys_shapes:
        if k.endswith('LayerNorm.weight'):
            sd[k] = 1 + 0.2 * torch.randn(shape, generator=gen)
        elif k.endswith('bias'):
            sd[k] = 0.1 * torch.randn(shape, generator=gen)
        else:
            sd[k] = torch.randn(shape, generator=gen) / math.sqrt(shape[-1])
    return sd


def bert_shapes(cfg, pooler):
    C, I, L = cfg['hidden_size'], cfg['intermediate_size'], cfg['num_hidden_layers']
    s = [('bert.embeddings.word_embeddings.weight', (cfg['vocab_size'], C)),
         ('bert.embeddings.position_embeddings.weight', (cfg['max_position_embeddings'], C)),
         ('bert.embeddings.token_type_embeddings.weight', (cfg['type_vocab_size'], C)),
         ('bert.embeddings.LayerNorm.weight', (C,)), ('bert.embeddings.LayerNorm.bias', (C,))]
    for i in range(L):
        p = f'bert.encoder.layer.{i}.'
        for n in ('query', 'key', 'value'):
            s += [(p + f'attention.self.{n}.weight', (C, C)), (p + f'attention.self.{n}.bias', (C,))]
        s += [(p + 'attention.output.dense.weight', (C, C)), (p + 'attention.output.dense.bias', (C,)),
              (p + 'attention.output.LayerNorm.weight', (C,)), (p + 'attention.output.LayerNorm.bias', (C,)),
              (p + 'intermediate.dense.weight', (I, C)), (p + 'intermediate.dense.bias', (I,)),
              (p + 'output.dense.weight', (C, I)), (p + 'output.dense.bias', (C,)),
              (p + 'output.LayerNorm.weight', (C,)), (p + 'output.LayerNorm.bias', (C,))]
    if pooler:
        s += [('bert.pooler.dense.weight', (C, C)), ('bert.pooler.dense.bias', (C,))]
    return s


def tiny_config(**kw):
    cfg = {'vocab_size': 40, 'hidden_size': 16, 'num_hidden_layers': 2, 'num_attention_heads': 2, 'intermediate_size': 32,
           'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1, 'max_position_embeddings': 24,
           'type_vocab_size': 2, 'initializer_range': 0.02, 'layer_norm_eps': 1e-12, 'pad_token_id': 0,
           'position_embedding_type': 'absolute', 'model_type': 'bert'}
    cfg.update(kw)
    return cfg


def save_tiny(name, cfg, sd):
    d = os.path.join(OUT_DIR, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
        f.write('\n')
    write_safetensors(os.path.join(d, 'model.safetensors'), sd, {'format': 'pt'})


TINY_IDS = [[2, 11, 4, 30, 7, 3], [2, 25, 4, 3, 0, 0]]
TINY_MASK = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]]
TINY_TYPES = [[0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0]]
TINY_INPUTS = {'inputIds': TINY_IDS, 'attentionMask': TINY_MASK, 'tokenTypeIds': TINY_TYPES}


def tiny_cases():
    gen = torch.Generator().manual_seed(1234)
    ids, mask, types = torch.tensor(TINY_IDS), torch.tensor(TINY_MASK), torch.tensor(TINY_TYPES)
    cases = {}
    with torch.no_grad():
        # BertForPreTraining (gelu_new): also read as BertForMaskedLM, BertForNextSentencePrediction, BertModel.
        cfg = tiny_config(hidden_act='gelu_new', architectures=['BertForPreTraining'])
        C, V = cfg['hidden_size'], cfg['vocab_size']
        sd = random_sd(bert_shapes(cfg, True) + [
            ('cls.predictions.bias', (V,)), ('cls.predictions.transform.dense.weight', (C, C)), ('cls.predictions.transform.dense.bias', (C,)),
            ('cls.predictions.transform.LayerNorm.weight', (C,)), ('cls.predictions.transform.LayerNorm.bias', (C,)),
            ('cls.seq_relationship.weight', (2, C)), ('cls.seq_relationship.bias', (2,))], gen)
        save_tiny('tiny-pretraining', cfg, sd)  # no decoder.weight / decoder.bias: tied, as HF's safetensors saving leaves them out
        h, pooled, _, _ = Bert(cfg, strip(sd))(ids, mask, types)
        logits = mlm_logits(cfg, sd, h)
        nsp = F.linear(pooled, sd['cls.seq_relationship.weight'], sd['cls.seq_relationship.bias'])
        labels = torch.tensor([[-100, 12, -100, -100, 9, -100], [-100, -100, 5, -100, -100, -100]])
        nsl = torch.tensor([0, 1])
        mlm_loss = F.cross_entropy(logits.view(-1, V), labels.view(-1))
        cases['tiny-pretraining'] = {
            'inputs': TINY_INPUTS, 'lastHiddenState': rec(h), 'poolerOutput': rec(pooled), 'predictionLogits': rec(logits),
            'seqRelationshipLogits': rec(nsp), 'labels': labels.tolist(), 'nextSentenceLabel': nsl.tolist(),
            'mlmLoss': float(mlm_loss), 'nspLoss': float(F.cross_entropy(nsp, nsl)), 'loss': float(mlm_loss + F.cross_entropy(nsp, nsl)),
        }
        # BertForSequenceClassification (relu, 3 labels).
        cfg = tiny_config(hidden_act='relu', architectures=['BertForSequenceClassification'],
                          id2label={'0': 'neg', '1': 'neu', '2': 'pos'}, label2id={'neg': 0, 'neu': 1, 'pos': 2})
        sd = random_sd(bert_shapes(cfg, True) + [('classifier.weight', (3, C)), ('classifier.bias', (3,))], gen)
        save_tiny('tiny-seqcls', cfg, sd)
        _, pooled, _, _ = Bert(cfg, strip(sd))(ids, mask, types)
        logits = F.linear(pooled, sd['classifier.weight'], sd['classifier.bias'])
        labels = torch.tensor([2, 0])
        multi = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
        cases['tiny-seqcls'] = {
            'inputs': TINY_INPUTS, 'logits': rec(logits), 'labels': labels.tolist(), 'loss': float(F.cross_entropy(logits, labels)),
            'multiLabels': multi.tolist(), 'multiLoss': float(F.binary_cross_entropy_with_logits(logits, multi)),
        }
        # QA + multiple choice share one checkpoint (qa_outputs (2, C), classifier (1, C)).
        cfg = tiny_config(architectures=['BertForQuestionAnswering'])
        sd = random_sd(bert_shapes(cfg, True) + [('qa_outputs.weight', (2, C)), ('qa_outputs.bias', (2,)),
                                                 ('classifier.weight', (1, C)), ('classifier.bias', (1,))], gen)
        save_tiny('tiny-qa-mc', cfg, sd)
        m = Bert(cfg, strip(sd))
        h, _, _, _ = m(ids, mask, types)
        qa = F.linear(h, sd['qa_outputs.weight'], sd['qa_outputs.bias'])
        start, end = [t.squeeze(-1) for t in qa.split(1, dim=-1)]
        sp, ep = torch.tensor([1, 2]), torch.tensor([4, 99])  # 99: outside the sequence -> clamped to T and ignored
        T = start.size(1)
        qa_loss = (F.cross_entropy(start, sp.clamp(0, T), ignore_index=T) + F.cross_entropy(end, ep.clamp(0, T), ignore_index=T)) / 2
        mc_ids = torch.tensor([[[2, 5, 6, 3, 0], [2, 7, 8, 9, 3], [2, 10, 3, 0, 0]], [[2, 30, 31, 3, 0], [2, 32, 3, 0, 0], [2, 33, 34, 35, 3]]])
        mc_mask = (mc_ids != 0).long()
        mc_types = torch.zeros_like(mc_ids)
        _, pooled, _, _ = m(mc_ids.view(-1, 5), mc_mask.view(-1, 5), mc_types.view(-1, 5))
        mc_logits = F.linear(pooled, sd['classifier.weight'], sd['classifier.bias']).view(2, 3)
        mc_labels = torch.tensor([1, 2])
        cases['tiny-qa-mc'] = {
            'inputs': TINY_INPUTS, 'startLogits': rec(start), 'endLogits': rec(end), 'startPositions': sp.tolist(), 'endPositions': ep.tolist(),
            'qaLoss': float(qa_loss), 'mcInputIds': mc_ids.tolist(), 'mcAttentionMask': mc_mask.tolist(), 'mcLogits': rec(mc_logits),
            'mcLabels': mc_labels.tolist(), 'mcLoss': float(F.cross_entropy(mc_logits, mc_labels)),
        }
    return cases


def main():
    torch.set_grad_enabled(False)
    out = {'torch': torch.__version__, 'inputs': INPUTS, 'real': real_cases(), 'tiny': tiny_cases()}
    path = os.path.join(HERE, 'bert_expected.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    print(f'wrote {path} ({os.path.getsize(path)} bytes) and {OUT_DIR}/')


if __name__ == '__main__':
    main()
