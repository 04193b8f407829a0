#!/usr/bin/env python3
"""make_seeds.py - writes the seed corpora of tests/fuzz/<harness>/ (small valid inputs of
every shape each reader accepts). Run from the repository root; the regress-* files next
to them are inputs that once crashed a reader and are kept as they were found."""
import gzip, json, os, shutil, struct, zlib

R = os.getcwd()
F = os.path.join(R, 'tests', 'fuzz')
def put(rel, data):
    os.makedirs(os.path.dirname(os.path.join(F, rel)), exist_ok=True)
    open(os.path.join(F, rel), 'wb').write(data if isinstance(data, bytes) else data.encode())

# IDX: images (3, 4, 4) plain and gzip, labels (3), a 4-D tensor.
img = struct.pack('>IIII', 0x803, 3, 4, 4) + bytes(range(48))
put('idx/images-3x4x4', img)
put('idx/images-3x4x4.gz', gzip.compress(img, mtime=0))
put('idx/labels-3', struct.pack('>II', 0x801, 3) + bytes([1, 7, 3]))
put('idx/tensor-4d', struct.pack('>IIIII', 0x804, 1, 2, 2, 2) + bytes(range(8)))

# NPY: a run's 1-D array, a 2-D one, a version 2.0 header.
def npy(shape, vals, ver=1):
    d = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ', '.join(map(str, shape)) + (',' if len(shape) == 1 else ''))
    pre = 10 if ver == 1 else 12
    h = (d + ' ' * (-(pre + len(d) + 1) % 64) + '\n').encode()
    ln = struct.pack('<H', len(h)) if ver == 1 else struct.pack('<I', len(h))
    return b'\x93NUMPY' + bytes([ver, 0]) + ln + h + struct.pack('<%df' % len(vals), *vals)
put('npy/d_fake.npy', open(os.path.join(R, 'tests/fixtures/run_small/d_fake.npy'), 'rb').read())
put('npy/2d.npy', npy((2, 3), [0, 1, 2, 3, 4, 5]))
put('npy/v2.npy', npy((4,), [1, 2, 3, 4], 2))

# PNG: a run's gray grid, tiny RGB, palette and 16-bit files.
def png(w, h, ctype, depth, raw, plte=None):
    c = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    body = c(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, ctype, 0, 0, 0))
    if plte:
        body += c(b'PLTE', plte)
    return b'\x89PNG\r\n\x1a\n' + body + c(b'IDAT', zlib.compress(raw)) + c(b'IEND', b'')
put('png/grid-gray.png', open(os.path.join(R, 'tests/fixtures/run_small/images/0.png'), 'rb').read())
put('png/rgb-2x2.png', png(2, 2, 2, 8, b'\0' + bytes(range(6)) + b'\0' + bytes(range(6, 12))))
put('png/palette-2x1.png', png(2, 1, 3, 8, b'\0\0\1', plte=bytes(range(6))))
put('png/gray16-1x2.png', png(1, 2, 0, 16, b'\0\x12\x34\0\xff\xff'))

# INI: shipped presets, a run's config.ini, one line of every shape.
for p in ['wgan-gp', 'ttur', 'residual']:
    put('ini/%s.ini' % p, open(os.path.join(R, 'samples/presets/%s.ini' % p)).read())
cfg = open(os.path.join(R, 'tests/fixtures/run_small/config.ini')).read()
put('ini/run-config.ini', cfg)
put('ini/shapes.ini', '\ufeff; comment\n# another\n\n[ train ]\nlr: 0.1 ; inline\nout = a;b\n'
                      '[generator]\nlayers = 8,16\n')

# safetensors: a generator file and a training checkpoint's shape, and an empty one.
def st(tensors, meta):
    hdr, blob = {}, b''
    for name, (shape, vals) in tensors.items():
        b = struct.pack('<%df' % len(vals), *vals)
        hdr[name] = {'dtype': 'F32', 'shape': shape, 'data_offsets': [len(blob), len(blob) + len(b)]}
        blob += b
    hdr['__metadata__'] = meta
    j = json.dumps(hdr).encode()
    j += b' ' * (-len(j) % 8)
    return struct.pack('<Q', len(j)) + j + blob
put('safetensors/generator.safetensors', st(
    {'dense0.kernel': ([2, 3], [0.1] * 6), 'dense0.bias': ([3], [0, 0, 0]),
     'bn0.moving_mean': ([3], [0, 0, 0])},
    {'format': 'clgan-generator-1', 'img_h': '28', 'img_w': '28', 'config': cfg}))
put('safetensors/checkpoint.safetensors', st(
    {'g/dense0.kernel': ([1, 2], [1, 2]), 'run/columns': ([5, 0], [])},
    {'format': 'clgan-checkpoint-1', 'iteration': '0', 'config': cfg, 'trainer.snapshots': '-1'}))
put('safetensors/empty.safetensors', st({}, {}))

# records: a run directory's record files in the harness's order, "#--" lines between.
rs = os.path.join(R, 'tests/fixtures/run_small/')
parts = [open(rs + f).read() for f in ['config.ini', 'metrics.jsonl', 'eval.jsonl', 'diagnoses.json']]
put('records/run_small', '\n#--\n'.join(parts))
put('records/three-records', '\n#--\n'.join(
    [parts[0], '\n'.join(parts[1].splitlines()[:3]) + '\n', parts[2], parts[3]]))
