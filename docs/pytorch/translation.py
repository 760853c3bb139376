"""zhuyi's three translation models, as PyTorch users write them, and a zhuyi model folder in and out.

    model, cfg = load_zhuyi_translation('runs/numbers-transformer')   # zhuyi-translate.json + best.safetensors
    logits = model(src, src_lengths, tgt_in)                          # (B, T, V), batch first, like zhuyi
    ... train ...
    save_zhuyi_translation(model, 'runs/numbers-transformer', 'runs/from-torch')  # then: zhuyi translate eval runs/from-torch

Parameter names equal zhuyi's checkpoint keys, except the tutorial's Seq2SeqTransformer, whose token
embeddings sit one level deeper (TokenEmbedding.embedding) and whose sinusoid table is a saved buffer;
TRANSFORMER_KEY_MAP and the two functions at the end handle that. Inputs everywhere: src (B, S) and
tgt_in (B, T) int64 token ids, batch first, padded with cfg['padId']; src_lengths (B) the real lengths;
tgt_in = [BOS, y_1, ..., y_{T-1}] and the logits at t predict y_{t+1} (EOS last).
"""
import json
import math
import os
import shutil

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn import Transformer
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from safetensors_io import load_file, save_file


# ---- 1. Seq2Seq (Sutskever et al. 2014 / Cho et al. 2014), as in bentrevett/pytorch-seq2seq 1 and 2 ----

def reverse_source(src, src_lengths):
    """Each sentence's own tokens backwards, padding left at the end (Sutskever et al. §3.3)."""
    out = src.clone()
    for b, n in enumerate(src_lengths.tolist()):
        out[b, :n] = src[b, :n].flip(0)
    return out


def maxout(readout, x):
    """Cho et al.'s deep output: t_j = max(t~_{2j-1}, t~_{2j}) over pairs of the readout."""
    t = readout(x)
    return t.view(*t.shape[:-1], t.shape[-1] // 2, 2).max(-1).values


class Encoder(nn.Module):
    def __init__(self, src_vocab, emb_dim, hidden, n_layers, dropout, cell, pad_id, reverse):
        super().__init__()
        self.embedding = nn.Embedding(src_vocab, emb_dim, padding_idx=pad_id)
        rnn = nn.LSTM if cell == 'lstm' else nn.GRU
        self.rnn = rnn(emb_dim, hidden, n_layers, dropout=dropout if n_layers > 1 else 0.0, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.reverse = reverse

    def forward(self, src, src_lengths):
        if self.reverse:
            src = reverse_source(src, src_lengths)
        embedded = self.dropout(self.embedding(src))                                   # (B, S, E)
        packed = pack_padded_sequence(embedded, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, state = self.rnn(packed)                                                      # GRU: h (L, B, H); LSTM: (h, c)
        return state


class Decoder(nn.Module):
    def __init__(self, tgt_vocab, emb_dim, hidden, n_layers, dropout, cell, pad_id, feed_context, maxout_units):
        super().__init__()
        self.embedding = nn.Embedding(tgt_vocab, emb_dim, padding_idx=pad_id)
        rnn = nn.LSTM if cell == 'lstm' else nn.GRU
        self.rnn = rnn(emb_dim + (hidden if feed_context else 0), hidden, n_layers, dropout=dropout if n_layers > 1 else 0.0, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        features = 2 * hidden + emb_dim if feed_context else hidden
        self.readout = nn.Linear(features, 2 * maxout_units) if maxout_units else None
        self.fc_out = nn.Linear(maxout_units or features, tgt_vocab)
        self.feed_context = feed_context

    def forward(self, tgt_in, state, context=None):
        embedded = self.dropout(self.embedding(tgt_in))                                  # (B, T, E)
        if context is None:
            output, state = self.rnn(embedded, state)                                    # (B, T, H)
            features = self.dropout(output)
        else:  # Cho et al.: the summary c enters every step and the output layer
            c = context.unsqueeze(1).expand(-1, tgt_in.shape[1], -1)                     # (B, T, H)
            output, state = self.rnn(torch.cat([embedded, c], 2), state)
            features = torch.cat([self.dropout(output), c, embedded], 2)                 # (B, T, 2H + E)
        logits = self.fc_out(maxout(self.readout, features) if self.readout is not None else features)
        return logits, state


class Seq2Seq(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        args = dict(emb_dim=cfg['embDim'], hidden=cfg['hidden'], n_layers=cfg['numLayers'], dropout=cfg['dropout'], cell=cfg['cell'], pad_id=cfg['padId'])
        self.encoder = Encoder(cfg['srcVocabSize'], reverse=cfg['reverseSource'], **args)
        self.decoder = Decoder(cfg['tgtVocabSize'], feed_context=cfg['feedContext'], maxout_units=cfg['maxout'], **args)
        self.feed_context = cfg['feedContext']

    def forward(self, src, src_lengths, tgt_in):
        state = self.encoder(src, src_lengths)                                           # v: the final state of every layer
        h = state[0] if isinstance(state, tuple) else state
        context = h[-1] if self.feed_context else None                                   # c: the top layer's (B, H)
        return self.decoder(tgt_in, state, context)[0]                                   # (B, T, V)


# ---- 2. GRU encoder-decoder with Bahdanau attention (Bahdanau, Cho & Bengio 2015) ----------------------

class AttentionEncoder(nn.Module):
    def __init__(self, src_vocab, emb_dim, enc_hidden, dec_hidden, dropout, pad_id):
        super().__init__()
        self.embedding = nn.Embedding(src_vocab, emb_dim, padding_idx=pad_id)
        self.rnn = nn.GRU(emb_dim, enc_hidden, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(enc_hidden, dec_hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src, src_lengths):
        embedded = self.dropout(self.embedding(src))                                      # (B, S, E)
        packed = pack_padded_sequence(embedded, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, hidden = self.rnn(packed)                                             # hidden (2, B, He)
        annotations, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=src.shape[1])  # (B, S, 2He), 0 at padding
        s0 = torch.tanh(self.fc(hidden[1]))                                               # s_0 = tanh(W_s h<-_1): the backward GRU ends at word 1
        return annotations, s0


class BahdanauAttention(nn.Module):
    """e_ij = v^T tanh(W s_{i-1} + U h_j), alpha_i = softmax_j(e_i) over the real words, c_i = sum_j alpha_ij h_j."""

    def __init__(self, dec_hidden, annotation_dim, attn_dim):
        super().__init__()
        self.W = nn.Linear(dec_hidden, attn_dim, bias=False)
        self.U = nn.Linear(annotation_dim, attn_dim, bias=False)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def forward(self, s_prev, annotations, src_pad_mask, projected_keys):
        energy = self.v(torch.tanh(self.W(s_prev).unsqueeze(1) + projected_keys)).squeeze(2)  # (B, S)
        alpha = torch.softmax(energy.masked_fill(src_pad_mask, float('-inf')), dim=1)
        return torch.bmm(alpha.unsqueeze(1), annotations).squeeze(1), alpha               # c_i (B, 2He), alpha_i (B, S)


class AttentionDecoder(nn.Module):
    def __init__(self, tgt_vocab, emb_dim, enc_hidden, dec_hidden, attn_dim, dropout, pad_id, maxout_units):
        super().__init__()
        self.embedding = nn.Embedding(tgt_vocab, emb_dim, padding_idx=pad_id)
        self.attention = BahdanauAttention(dec_hidden, 2 * enc_hidden, attn_dim)
        self.rnn = nn.GRUCell(emb_dim + 2 * enc_hidden, dec_hidden)
        features = dec_hidden + 2 * enc_hidden + emb_dim
        self.readout = nn.Linear(features, 2 * maxout_units) if maxout_units else None
        self.fc_out = nn.Linear(maxout_units or features, tgt_vocab)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tgt_in, s, annotations, src_pad_mask):
        embedded = self.dropout(self.embedding(tgt_in))                                   # (B, T, E)
        keys = self.attention.U(annotations)                                              # U h_j, once per sentence
        features = []
        for i in range(tgt_in.shape[1]):
            y = embedded[:, i]                                                            # (B, E)
            context, _ = self.attention(s, annotations, src_pad_mask, keys)
            s = self.rnn(torch.cat([y, context], 1), s)                                   # s_i = GRU([E y_{i-1}; c_i], s_{i-1})
            features.append(torch.cat([s, context, y], 1))                                # [s_i; c_i; E y_{i-1}]
        features = torch.stack(features, 1)                                               # (B, T, Hd + 2He + E)
        return self.fc_out(maxout(self.readout, features) if self.readout is not None else features)


class AttentionSeq2Seq(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg['attention'] != 'additive':
            raise ValueError(f"AttentionSeq2Seq: this file writes Bahdanau's additive score only, the folder uses '{cfg['attention']}'")
        self.encoder = AttentionEncoder(cfg['srcVocabSize'], cfg['embDim'], cfg['encoderHidden'], cfg['decoderHidden'], cfg['dropout'], cfg['padId'])
        self.decoder = AttentionDecoder(cfg['tgtVocabSize'], cfg['embDim'], cfg['encoderHidden'], cfg['decoderHidden'], cfg['attentionDim'],
                                        cfg['dropout'], cfg['padId'], cfg['maxout'])

    def forward(self, src, src_lengths, tgt_in):
        annotations, s0 = self.encoder(src, src_lengths)
        src_pad_mask = torch.arange(src.shape[1])[None, :] >= src_lengths[:, None]         # (B, S), True at padding
        return self.decoder(tgt_in, s0, annotations, src_pad_mask)


# ---- 3. The Transformer: Seq2SeqTransformer of PyTorch's "Language Translation with nn.Transformer" -----

class PositionalEncoding(nn.Module):
    def __init__(self, emb_size: int, dropout: float, maxlen: int = 5000):
        super(PositionalEncoding, self).__init__()
        den = torch.exp(- torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(-2)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer('pos_embedding', pos_embedding)

    def forward(self, token_embedding: Tensor):
        return self.dropout(token_embedding + self.pos_embedding[:token_embedding.size(0), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size: int, emb_size):
        super(TokenEmbedding, self).__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size)
        self.emb_size = emb_size

    def forward(self, tokens: Tensor):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, num_encoder_layers: int, num_decoder_layers: int, emb_size: int, nhead: int, src_vocab_size: int, tgt_vocab_size: int,
                 dim_feedforward: int = 512, dropout: float = 0.1, activation: str = 'relu', norm_first: bool = False):
        super(Seq2SeqTransformer, self).__init__()
        self.transformer = Transformer(d_model=emb_size, nhead=nhead, num_encoder_layers=num_encoder_layers, num_decoder_layers=num_decoder_layers,
                                       dim_feedforward=dim_feedforward, dropout=dropout, activation=activation, norm_first=norm_first)
        self.generator = nn.Linear(emb_size, tgt_vocab_size)
        self.src_tok_emb = TokenEmbedding(src_vocab_size, emb_size)
        self.tgt_tok_emb = TokenEmbedding(tgt_vocab_size, emb_size)
        self.positional_encoding = PositionalEncoding(emb_size, dropout=dropout)

    def forward(self, src: Tensor, trg: Tensor, src_mask: Tensor, tgt_mask: Tensor, src_padding_mask: Tensor, tgt_padding_mask: Tensor,
                memory_key_padding_mask: Tensor):
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None, src_padding_mask, tgt_padding_mask, memory_key_padding_mask)
        return self.generator(outs)


def generate_square_subsequent_mask(sz):
    mask = (torch.triu(torch.ones((sz, sz))) == 1).transpose(0, 1)
    return mask.float().masked_fill(mask == 0, float('-inf')).masked_fill(mask == 1, float(0.0))


class TransformerTranslator(Seq2SeqTransformer):
    """The tutorial's model behind zhuyi's calling convention: batch-first ids and source lengths in, (B, T, V) out."""

    def __init__(self, cfg):
        if cfg['positions'] != 'sinusoidal' or cfg['shareEmbeddings'] or cfg['tieOutput']:
            raise ValueError('Seq2SeqTransformer: the tutorial model has sinusoidal positions and untied embeddings; '
                             f"the folder has positions={cfg['positions']}, shareEmbeddings={cfg['shareEmbeddings']}, tieOutput={cfg['tieOutput']}")
        super().__init__(cfg['numEncoderLayers'], cfg['numDecoderLayers'], cfg['dModel'], cfg['nHead'], cfg['srcVocabSize'], cfg['tgtVocabSize'],
                         cfg['dimFeedforward'], cfg['dropout'], cfg['activation'], cfg['normFirst'])
        self.pad_id = cfg['padId']

    def forward(self, src, src_lengths, tgt_in):
        S, T = src.shape[1], tgt_in.shape[1]
        src_padding_mask = torch.arange(S)[None, :] >= src_lengths[:, None]               # (B, S), True at padding
        tgt_padding_mask = tgt_in == self.pad_id                                          # (B, T)
        src_mask = torch.zeros((S, S)).type(torch.bool)
        tgt_mask = generate_square_subsequent_mask(T)
        # The tutorial's tensors are (T, B): transpose in, and the logits (T, B, V) back to (B, T, V).
        logits = super().forward(src.t(), tgt_in.t(), src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, src_padding_mask)
        return logits.transpose(0, 1)


# zhuyi key -> the tutorial's key; every other key (nn.Transformer's included) is named alike. The tutorial's
# sinusoid table `positional_encoding.pos_embedding` is a saved buffer; zhuyi computes it and does not save it.
TRANSFORMER_KEY_MAP = {'src_tok_emb.weight': 'src_tok_emb.embedding.weight', 'tgt_tok_emb.weight': 'tgt_tok_emb.embedding.weight'}
POSITIONS_BUFFER = 'positional_encoding.pos_embedding'


# ---- a zhuyi translation folder in and out ------------------------------------------------------------

CONFIG_FILE = 'zhuyi-translate.json'
MODELS = {'seq2seq': Seq2Seq, 'attention': AttentionSeq2Seq, 'transformer': TransformerTranslator}
# zhuyi's defaults (src/models/translate/*.ts): zhuyi-translate.json keeps only the preset and what was overridden.
DEFAULTS = {
    'seq2seq': dict(cell='lstm', embDim=256, hidden=512, numLayers=2, dropout=0.2, feedContext=False, maxout=0, reverseSource=False),
    'attention': dict(attention='additive', embDim=256, encoderHidden=256, decoderHidden=512, dropout=0.2, maxout=0),
    'transformer': dict(dModel=512, nHead=8, numEncoderLayers=6, numDecoderLayers=6, dimFeedforward=2048, dropout=0.1, activation='relu',
                        positions='sinusoidal', maxLen=1024, shareEmbeddings=False, tieOutput=False, normFirst=False),
}


def full_config(kind, config):
    c = {**DEFAULTS[kind], **config}
    if kind == 'attention':
        c.setdefault('attentionDim', c['decoderHidden'])
    return c


def read_zhuyi_weights(folder):
    """The model's weights of a zhuyi folder: model.safetensors (a plain state dict, what save_zhuyi_translation writes) or the
    `model.` tensors of best.safetensors, else last.safetensors (zhuyi's training checkpoints, which also hold the optimizer)."""
    plain = os.path.join(folder, 'model.safetensors')
    if os.path.exists(plain):
        return load_file(plain)
    for name in ('best.safetensors', 'last.safetensors'):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return {k[len('model.'):]: v for k, v in load_file(path).items() if k.startswith('model.')}
    raise FileNotFoundError(f'{folder}: no model.safetensors, best.safetensors or last.safetensors')


def to_torch_keys(kind, weights):
    if kind != 'transformer':
        return dict(weights)
    return {TRANSFORMER_KEY_MAP.get(k, k): v for k, v in weights.items()}


def to_zhuyi_keys(kind, state_dict):
    if kind != 'transformer':
        return dict(state_dict)
    back = {v: k for k, v in TRANSFORMER_KEY_MAP.items()}
    return {back.get(k, k): v for k, v in state_dict.items() if k != POSITIONS_BUFFER}


def load_zhuyi_translation(folder):
    """(model, saved) from a folder `zhuyi translate train --out` wrote; saved = zhuyi-translate.json (kind, config, data)."""
    with open(os.path.join(folder, CONFIG_FILE)) as f:
        saved = json.load(f)
    model = MODELS[saved['kind']](full_config(saved['kind'], saved['config']))
    weights = to_torch_keys(saved['kind'], read_zhuyi_weights(folder))
    own = model.state_dict()
    if POSITIONS_BUFFER in own:  # the sinusoid table: zhuyi computes it and does not save it
        weights[POSITIONS_BUFFER] = own[POSITIONS_BUFFER]
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    if missing or unexpected:
        raise KeyError(f'{folder}: keys do not match {type(model).__name__}: missing {missing}, unexpected {unexpected}')
    model.load_state_dict(weights)
    return model, saved


def save_zhuyi_translation(model, source_folder, out_folder):
    """A zhuyi model folder with `model`'s weights: the config and tokenizers of source_folder, plus model.safetensors."""
    with open(os.path.join(source_folder, CONFIG_FILE)) as f:
        kind = json.load(f)['kind']
    os.makedirs(out_folder, exist_ok=True)
    for stale in ('best.safetensors', 'last.safetensors'):  # zhuyi would prefer these over model.safetensors
        if os.path.exists(os.path.join(out_folder, stale)):
            raise FileExistsError(f'{out_folder} holds a zhuyi checkpoint ({stale}): write to a new folder')
    shutil.copy(os.path.join(source_folder, CONFIG_FILE), os.path.join(out_folder, CONFIG_FILE))
    for side in ('source', 'target'):
        shutil.copytree(os.path.join(source_folder, side), os.path.join(out_folder, side), dirs_exist_ok=True)
    state = {k: v.detach().clone() for k, v in to_zhuyi_keys(kind, model.state_dict()).items()}
    save_file(state, os.path.join(out_folder, 'model.safetensors'), {'format': 'pt'})
