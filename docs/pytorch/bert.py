"""BERT for a zhuyi (= Hugging Face) folder: config.json + model.safetensors with HF's key names.

With Hugging Face `transformers` installed, a zhuyi BERT folder needs no code of its own:

    from transformers import BertForSequenceClassification
    model = BertForSequenceClassification.from_pretrained('runs/sst2/hf')   # zhuyi bert finetune --out runs/sst2
    ... train ...
    model.save_pretrained('runs/sst2-torch', safe_serialization=True)       # back: BertForSequenceClassification.fromPretrained in zhuyi

Debian's python3-torch comes without transformers (and Debian does not package it), so this file writes
the same two classes in plain torch, module for module as modeling_bert.py, with the same parameter
names; the test that keeps docs/pytorch.md honest runs these. Eval and training forward only: no
caches, no cross-attention, absolute positions.
"""
import json
import math
import os
import shutil

import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_io import load_file, save_file

ACT2FN = {
    'gelu': F.gelu,  # exact erf form, HF's GELUActivation
    'gelu_new': lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0)))),
    'gelu_pytorch_tanh': lambda x: F.gelu(x, approximate='tanh'),
    'relu': F.relu, 'silu': F.silu, 'swish': F.silu, 'tanh': torch.tanh,
}


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c['vocab_size'], c['hidden_size'], padding_idx=c.get('pad_token_id', 0))
        self.position_embeddings = nn.Embedding(c['max_position_embeddings'], c['hidden_size'])
        self.token_type_embeddings = nn.Embedding(c['type_vocab_size'], c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])  # HF's capital L, kept for the checkpoint keys
        self.dropout = nn.Dropout(c['hidden_dropout_prob'])

    def forward(self, input_ids, token_type_ids):
        positions = torch.arange(input_ids.shape[1])[None, :]
        e = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(e + self.position_embeddings(positions)))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.head_size = c['num_attention_heads'], c['hidden_size'] // c['num_attention_heads']
        self.query = nn.Linear(c['hidden_size'], c['hidden_size'])
        self.key = nn.Linear(c['hidden_size'], c['hidden_size'])
        self.value = nn.Linear(c['hidden_size'], c['hidden_size'])
        self.dropout = nn.Dropout(c['attention_probs_dropout_prob'])

    def forward(self, h, extended_mask):
        B, T, C = h.shape
        split = lambda x: x.view(B, T, self.heads, self.head_size).permute(0, 2, 1, 3)  # (B, T, C) -> (B, nh, T, hs)
        q, k, v = split(self.query(h)), split(self.key(h)), split(self.value(h))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_size) + extended_mask
        probs = self.dropout(torch.softmax(scores, dim=-1))
        return (probs @ v).permute(0, 2, 1, 3).reshape(B, T, C)                          # (B, nh, T, hs) -> (B, T, C)


class BertSelfOutput(nn.Module):  # also BertOutput: dense, dropout, residual, LayerNorm
    def __init__(self, c, inner):
        super().__init__()
        self.dense = nn.Linear(inner, c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])
        self.dropout = nn.Dropout(c['hidden_dropout_prob'])

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c, c['hidden_size'])

    def forward(self, h, extended_mask):
        return self.output(self.self(h, extended_mask), h)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['intermediate_size'])
        self.act = ACT2FN[c['hidden_act']]

    def forward(self, x):
        return self.act(self.dense(x))


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertSelfOutput(c, c['intermediate_size'])

    def forward(self, h, extended_mask):
        a = self.attention(h, extended_mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c['num_hidden_layers'])])

    def forward(self, h, extended_mask):
        for layer in self.layer:
            h = layer(h, extended_mask)
        return h


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['hidden_size'])

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c, add_pooling_layer=True):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c) if add_pooling_layer else None

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        extended_mask = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min  # (B, 1, 1, T)
        h = self.encoder(self.embeddings(input_ids, token_type_ids), extended_mask)
        return h, (self.pooler(h) if self.pooler is not None else None)


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert = BertModel(c)
        self.dropout = nn.Dropout(c.get('classifier_dropout') or c['hidden_dropout_prob'])
        num_labels = len(c['id2label']) if c.get('id2label') else c.get('num_labels', 2)  # PretrainedConfig: id2label wins
        self.classifier = nn.Linear(c['hidden_size'], num_labels)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        return self.classifier(self.dropout(self.bert(input_ids, attention_mask, token_type_ids)[1]))  # logits (B, K)


def load_bert_folder(folder):
    """BertForSequenceClassification from config.json + model.safetensors, as from_pretrained(folder) does for this head."""
    with open(os.path.join(folder, 'config.json')) as f:
        config = json.load(f)
    model = BertForSequenceClassification(config)
    weights = load_file(os.path.join(folder, 'model.safetensors'))
    weights = {k: v for k, v in weights.items() if not k.endswith('position_ids')}  # a buffer older HF versions saved
    model.load_state_dict(weights)  # strict: every key and shape must match
    return model


TOKENIZER_FILES = ('vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json')


def save_bert_folder(model, out_folder, source_folder=None):
    """config.json + model.safetensors (`format: pt`, the metadata transformers checks), as save_pretrained writes them,
    and the tokenizer files of source_folder, so that `zhuyi bert eval OUT` and the pipelines can tokenize."""
    os.makedirs(out_folder, exist_ok=True)
    save_file({k: v.detach().clone() for k, v in model.state_dict().items()}, os.path.join(out_folder, 'model.safetensors'), {'format': 'pt'})
    with open(os.path.join(out_folder, 'config.json'), 'w') as f:
        json.dump(model.config, f, indent=2)
    for name in TOKENIZER_FILES if source_folder else ():
        if os.path.exists(os.path.join(source_folder, name)):
            shutil.copy(os.path.join(source_folder, name), os.path.join(out_folder, name))
