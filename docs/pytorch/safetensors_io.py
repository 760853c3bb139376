"""safetensors without the `safetensors` package (Debian's python3-torch does not ship it).

With `pip install safetensors` you can use `safetensors.torch.load_file` / `save_file` instead: the
files are the same. The format is an 8-byte little-endian header length, a JSON header
{name: {dtype, shape, data_offsets}, "__metadata__": {...}} and the raw little-endian bytes.
"""
import json
import struct

import numpy as np
import torch

DTYPES = {'F32': np.float32, 'F64': np.float64, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32, 'I8': np.int8, 'U8': np.uint8, 'BOOL': np.bool_}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def load_file(path):
    """{name: tensor} of a .safetensors file (metadata in `load_metadata`)."""
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        begin, end = e['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype=DTYPES[e['dtype']]).reshape(e['shape']).copy())
    return out


def load_metadata(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        return json.loads(f.read(n)).get('__metadata__', {})


def save_file(tensors, path, metadata=None):
    """Writes {name: tensor} (any dtype numpy knows) with optional string metadata, like safetensors.torch.save_file."""
    header = {'__metadata__': metadata} if metadata else {}
    blobs, offset = [], 0
    for name in sorted(tensors):
        a = tensors[name].detach().cpu().contiguous().numpy()
        b = a.tobytes()
        header[name] = {'dtype': NAMES[a.dtype], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':'))
    h += ' ' * ((8 - (8 + len(h)) % 8) % 8)  # the data starts 8-byte aligned
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h.encode())
        for b in blobs:
            f.write(b)
    import os
    os.replace(path + '.tmp', path)  # a crash never leaves half a file under the real name
