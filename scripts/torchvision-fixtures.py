#!/usr/bin/python3
"""Reference outputs of torchvision networks for tlr's zoo tests.

Weights and inputs are not stored: every tensor is filled from an integer hash of its name
(mulberry32 seeded by FNV-1a), which test/helpers/deterministic.ts computes bit for bit the same.
For each network this writes test/fixtures/torchvision/NAME.json: torchvision's parameter count,
its state_dict keys and shapes (in order), and the logits for two inputs.

Needs Debian's python3-torch and python3-torchvision:  /usr/bin/python3 scripts/torchvision-fixtures.py
"""
import json, math, os, sys
import numpy as np
import torch, torchvision

M32 = 0xFFFFFFFF

def fnv1a(s):
    h = 0x811C9DC5
    for b in s.encode():
        h = ((h ^ b) * 0x01000193) & M32
    return h

def imul(a, b):
    return (a * b) & M32

def uniform(name, n):
    """n values in [-1, 1), exact in float32: mulberry32 states seed + (i+1) * 0x6D2B79F5."""
    seed = np.uint64(fnv1a(name))
    i = np.arange(1, n + 1, dtype=np.uint64)
    t = (seed + i * np.uint64(0x6D2B79F5)) & np.uint64(M32)
    t = imul(t ^ (t >> np.uint64(15)), t | np.uint64(1))
    t = t ^ ((t + imul(t ^ (t >> np.uint64(7)), t | np.uint64(61))) & np.uint64(M32))
    t = (t ^ (t >> np.uint64(14))) & np.uint64(M32)
    return ((t >> np.uint64(8)).astype(np.float64) / 16777216.0) * 2.0 - 1.0

def value(name, shape, kind):
    """The same rule as deterministic.ts: scaled by tensor kind, rounded to float32 once."""
    n = int(np.prod(shape)) if len(shape) else 1
    u = uniform(name, n)
    if kind == 'weight':
        fan_in = n // shape[0]
        v = u * math.sqrt(6.0 / fan_in)
    elif kind == 'bias':
        v = u * 0.1
    elif kind == 'gamma':
        v = 1.0 + u * 0.1
    elif kind == 'mean':
        v = u * 0.1
    elif kind == 'var':
        v = 1.25 + u * 0.25
    else:
        v = u
    return v.astype(np.float32).reshape(shape)

def kind_of(key, state, bn_layers):
    layer, param = key.rsplit('.', 1)
    if layer in bn_layers:
        return {'weight': 'gamma', 'bias': 'bias', 'running_mean': 'mean', 'running_var': 'var'}.get(param)
    return 'weight' if param == 'weight' else 'bias'

NETWORKS = {
    'resnet18': (lambda: torchvision.models.resnet18(weights=None), 64),
    'resnet50': (lambda: torchvision.models.resnet50(weights=None), 64),
    'vgg16': (lambda: torchvision.models.vgg16(weights=None), 32),
    'alexnet': (lambda: torchvision.models.alexnet(weights=None), 67),
    'densenet121': (lambda: torchvision.models.densenet121(weights=None), 64),
    'inception_v3': (
        lambda: torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False),
        75,
    ),
}

def main(names):
    torch.set_num_threads(2)
    out_dir = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'torchvision')
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        make, size = NETWORKS[name]
        model = make().eval()
        bn_layers = {n for n, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
        state = model.state_dict()
        keys = []
        for key, t in state.items():
            if key.endswith('num_batches_tracked'):
                continue
            state[key] = torch.from_numpy(value(key, tuple(t.shape), kind_of(key, state, bn_layers)))
            keys.append([key, list(t.shape)])
        model.load_state_dict(state)
        x = torch.from_numpy(value('input', (2, size, size, 3), 'input')).permute(0, 3, 1, 2).contiguous()
        with torch.no_grad():
            logits = model(x).numpy()
        params = sum(p.numel() for p in model.parameters())
        doc = {
            'network': name, 'torchvision': torchvision.__version__, 'torch': torch.__version__, 'inputSize': size,
            'params': params, 'state': keys,
            'logits': [[float('%.7g' % v) for v in row] for row in logits.tolist()],
        }
        with open(os.path.join(out_dir, name + '.json'), 'w') as f:
            json.dump(doc, f, separators=(',', ':'))
            f.write('\n')
        print(name, size, params, logits.shape, float(np.abs(logits).max()))

if __name__ == '__main__':
    main(sys.argv[1:] or list(NETWORKS))
