"""Fixtures for the PyTorch checkpoint reader (src/io/torch-bin.ts) and the HF folder reader.

Run with Debian's torch:  /usr/bin/python3 tests/golden/gen_torch_bin.py
Writes tests/golden/torch-bin/*.bin and tests/golden/torch-bin/expected.json:
- basic_{zip,legacy}.bin: one OrderedDict state dict in both torch.save formats, with every dtype
  the reader converts, a 0-d tensor, an empty tensor, a transposed view and a slice sharing one
  storage (offset + strides), and an nn.Parameter.
- basic_{zip,legacy}_p4.bin: the same with pickle protocol 4.
- nested_zip.bin: a training checkpoint shaped dict (nested dicts, an int key, non-tensor leaves).
- deflate_prefix.bin / zip64.bin: basic_zip re-zipped with deflate under another archive name,
  and with zip64 records forced, since torch's own writer only does these for huge files.
- int64_overflow.bin: an int64 value no int32 can hold.
- evil_*.bin: pickles that would run a command; the marker file they would create must not appear.
Legacy files differ from run to run: torch names their storages by id(), a memory address.
It also writes tests/golden/tiny-bert-checkpoints.json: per-tensor shape, sum and first values of
the three checkpoints in ../shared/data/tiny-bert-checkpoints, as torch.load / safetensors read them.
"""
import collections, io, json, os, pickle, struct, sys, zipfile
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'torch-bin')
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)

ZHUYI_DTYPE = {torch.float32: 'float32', torch.float16: 'float32', torch.bfloat16: 'float32', torch.float64: 'float64',
               torch.int64: 'int32', torch.int32: 'int32', torch.int16: 'int32', torch.int8: 'int32', torch.uint8: 'int32',
               torch.bool: 'bool'}


def values(t):
    t = t.detach()
    flat = t.reshape(-1)
    if t.dtype == torch.bool:
        return [bool(v) for v in flat.tolist()]
    if t.dtype.is_floating_point:
        return flat.double().tolist()
    return flat.tolist()


def summary(d, prefix=''):
    out = {}
    for k, v in d.items():
        name = f'{prefix}{k}'
        if isinstance(v, dict):
            out.update(summary(v, name + '.'))
        elif isinstance(v, torch.Tensor):
            out[name] = {'shape': list(v.shape), 'dtype': ZHUYI_DTYPE[v.dtype], 'values': values(v)}
    return out


def basic_state():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 4
    sd = collections.OrderedDict()
    sd['f32'] = torch.randn(2, 3)
    sd['f16'] = torch.tensor([0.5, -1.25, 65504.0, 6e-5], dtype=torch.float16)
    sd['bf16'] = torch.tensor([[1.0, -2.5], [3.140625, 1e30]], dtype=torch.bfloat16)
    sd['f64'] = torch.tensor([1 / 3, -2.0, 1e-300], dtype=torch.float64)
    sd['i64'] = torch.tensor([0, -1, 2147483647, -2147483648], dtype=torch.int64)
    sd['i32'] = torch.tensor([[7, -8]], dtype=torch.int32)
    sd['i16'] = torch.tensor([-300, 300], dtype=torch.int16)
    sd['i8'] = torch.tensor([-128, 127], dtype=torch.int8)
    sd['u8'] = torch.tensor([0, 255, 3], dtype=torch.uint8)
    sd['bool'] = torch.tensor([True, False, True])
    sd['scalar'] = torch.tensor(2.5)
    sd['empty'] = torch.zeros(0, 3)
    # base, its transpose and a slice share one storage: offsets and strides must be honoured.
    sd['base'] = base
    sd['base_t'] = base.t()
    sd['base_slice'] = base[1:, 1::2]
    sd['param'] = torch.nn.Parameter(torch.tensor([[1.5, -0.5]]))
    return sd


def zip_rewrite(src, dst, prefix=None, deflate=False):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            name = info.filename
            if prefix:
                name = prefix + name[name.index('/'):]
            # A fixed timestamp keeps regenerated fixtures byte-identical.
            zout.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), zin.read(info.filename),
                          compress_type=zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED)


def legacy_container(main_pickle_bytes):
    """The pre-1.6 layout around a given main pickle: magic, protocol, sys_info, main, storage keys."""
    buf = io.BytesIO()
    pickle.dump(0x1950a86a20f9469cfc6c, buf, protocol=2)
    pickle.dump(1001, buf, protocol=2)
    pickle.dump({'protocol_version': 1001, 'little_endian': True, 'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, buf, protocol=2)
    buf.write(main_pickle_bytes)
    pickle.dump([], buf, protocol=2)
    return buf.getvalue()


def zip_container(main_pickle_bytes, path):
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo('archive/data.pkl', date_time=(1980, 1, 1, 0, 0, 0)), main_pickle_bytes)
        z.writestr(zipfile.ZipInfo('archive/version', date_time=(1980, 1, 1, 0, 0, 0)), '3\n')


class EvilReduce:
    """Unpickling this calls os.system (pickled as posix.system on Linux)."""
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def marker(name):
    return f'/tmp/zhuyi-evil-pickle-{name}'


def evil_pickles():
    out = {}
    # Hand-written protocol 0: GLOBAL 'os system', a string argument, REDUCE.
    out['global_os_system'] = b'cos\nsystem\n(S\'touch ' + marker('global_os_system').encode() + b'\'\ntR.'
    # A class with __reduce__, as pickle writes it (protocol 2: GLOBAL 'posix system').
    out['reduce_class'] = pickle.dumps(EvilReduce('touch ' + marker('reduce_class')), protocol=2)
    # Protocol 4 uses STACK_GLOBAL; the evil value hides inside an otherwise normal state dict.
    sd = collections.OrderedDict(w=[1.0, 2.0], evil=EvilReduce('touch ' + marker('stack_global')))
    out['stack_global'] = pickle.dumps(sd, protocol=4)
    # INST names the class inline (protocol 0).
    out['inst'] = b'(S\'touch ' + marker('inst').encode() + b'\'\nios\nsystem\n.'
    # torch's own nested torch.load path: refused because it would unpickle with the full unpickler.
    out['load_from_bytes'] = b'\x80\x02ctorch.storage\n_load_from_bytes\nq\x00C\x01xq\x01\x85q\x02Rq\x03.'
    return out


def load_safetensors(path):
    """A minimal safetensors reader (Debian's python has no safetensors package): header JSON + raw bytes."""
    dtypes = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'F64': torch.float64,
              'I64': torch.int64, 'I32': torch.int32, 'U8': torch.uint8, 'BOOL': torch.bool}
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = collections.OrderedDict()
    for k, e in header.items():
        if k == '__metadata__':
            continue
        b, en = e['data_offsets']
        raw = bytearray(data[8 + n + b:8 + n + en])
        out[k] = torch.frombuffer(raw, dtype=dtypes[e['dtype']]).reshape(e['shape']).clone() if raw else torch.zeros(e['shape'], dtype=dtypes[e['dtype']])
    return out


def tiny_bert_summary():
    root = os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'tiny-bert-checkpoints')
    if not os.path.isdir(root):
        print('no shared data: skipping tiny-bert-checkpoints.json', file=sys.stderr)
        return
    result = {}
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isdir(d):
            continue
        if os.path.exists(os.path.join(d, 'model.safetensors')):
            sd, fmt = load_safetensors(os.path.join(d, 'model.safetensors')), 'safetensors'
        else:
            sd = torch.load(os.path.join(d, 'pytorch_model.bin'), map_location='cpu')
            fmt = 'torch-zip' if zipfile.is_zipfile(os.path.join(d, 'pytorch_model.bin')) else 'torch-legacy'
        tensors = {}
        for k, v in sd.items():
            tensors[k] = {'shape': list(v.shape), 'dtype': ZHUYI_DTYPE[v.dtype], 'sum': float(v.double().sum()),
                          'abs_sum': float(v.double().abs().sum()), 'first': values(v.reshape(-1)[:4])}
        with open(os.path.join(d, 'config.json')) as f:
            config = json.load(f)
        result[name] = {'format': fmt, 'keys': list(sd.keys()), 'config_hidden_size': config['hidden_size'], 'tensors': tensors}
    with open(os.path.join(HERE, 'tiny-bert-checkpoints.json'), 'w') as f:
        json.dump(result, f, indent=1)


def main():
    expected = {}
    sd = basic_state()
    torch.save(sd, os.path.join(OUT, 'basic_zip.bin'))
    torch.save(sd, os.path.join(OUT, 'basic_legacy.bin'), _use_new_zipfile_serialization=False)
    # Protocol 4 exercises FRAME, MEMOIZE, STACK_GLOBAL and SHORT_BINUNICODE (torch's default is 2).
    torch.save(sd, os.path.join(OUT, 'basic_zip_p4.bin'), pickle_protocol=4)
    torch.save(sd, os.path.join(OUT, 'basic_legacy_p4.bin'), _use_new_zipfile_serialization=False, pickle_protocol=4)
    expected['basic'] = summary(sd)

    nested = {'model': collections.OrderedDict(w=torch.randn(2, 2), b=torch.zeros(2)), 'step': 7, 'name': 'run-1',
              'lrs': [0.1, 0.01], 'optimizer': {'state': {0: {'exp_avg': torch.ones(3, dtype=torch.float64)}}}}
    torch.save(nested, os.path.join(OUT, 'nested_zip.bin'))
    torch.save(nested, os.path.join(OUT, 'nested_legacy.bin'), _use_new_zipfile_serialization=False)
    expected['nested'] = summary(nested)

    zip_rewrite(os.path.join(OUT, 'basic_zip.bin'), os.path.join(OUT, 'deflate_prefix.bin'), prefix='my_model-v2', deflate=True)
    saved = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 0  # every size and offset "too large": zip64 extra fields and end records
    try:
        zip_rewrite(os.path.join(OUT, 'basic_zip.bin'), os.path.join(OUT, 'zip64.bin'))
    finally:
        zipfile.ZIP64_LIMIT = saved

    torch.save({'big': torch.tensor([1, 2**40])}, os.path.join(OUT, 'int64_overflow.bin'))
    torch.save({'big': torch.tensor([1, 2**40])}, os.path.join(OUT, 'int64_overflow_legacy.bin'), _use_new_zipfile_serialization=False)

    evil = evil_pickles()
    for name, data in evil.items():
        zip_container(data, os.path.join(OUT, f'evil_{name}_zip.bin'))
        with open(os.path.join(OUT, f'evil_{name}_legacy.bin'), 'wb') as f:
            f.write(legacy_container(data))
    expected['evil'] = {name: marker(name) for name in evil}

    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    tiny_bert_summary()


if __name__ == '__main__':
    main()
