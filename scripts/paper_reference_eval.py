#!/usr/bin/python3
"""The authors' network through the paper's own sampler in PyTorch, measured with the
published table's metric by POT: the reference README's "The authors' network" compares
gapscope with. Euler(-Maruyama) of teojd/ODESDEGap (N steps of T/N, the last 10 refined
ten-fold, no noise on the SDE's last step), ODE and SDE from the same prior draws; the
metric of math.md §5 (nearest node of 64 x 64 on [-3.5, 3.5]^2, none discarded, exact EMD).
Usage: scripts/paper_reference_eval.py NETWORK [n] [N] [seed]   (python3-torch, python3-pot)
"""
import os, sys, tempfile, time
import numpy as np, ot, torch

# torch.load of a whole pickled module needs its class: an empty stand-in named like it.
stub = tempfile.mkdtemp()
os.makedirs(os.path.join(stub, "models"))
open(os.path.join(stub, "models", "__init__.py"), "w").write("import torch\nclass Net(torch.nn.Module):\n    pass\n")
sys.path.insert(0, stub)

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
N = int(sys.argv[3]) if len(sys.argv) > 3 else 800
torch.manual_seed(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
torch.set_flush_denormal(True)
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
net = torch.load(path, map_location="cpu")
T = 10.0

def score(x, t):
    x = x.detach().requires_grad_()
    a = net.activation
    z = torch.cat([t, x], 1)
    u = net.output(a(net.hidden2(a(net.hidden1(a(net.input(z)))))))
    return torch.autograd.grad(u.sum(), x)[0]

def run(sde, x):
    t, dt, ones, k, total = T, -T / N, torch.ones(x.shape[0], 1), 0, N - 10 + 100
    for h, m in ((dt, N - 10), (dt / 10, 100)):
        for _ in range(m):
            k += 1
            x = x + (-x - (1.0 if sde else 0.5) * score(x, t * ones)) * h
            if sde and k < total:
                x = x + (-h) ** 0.5 * torch.randn_like(x)
            x, t = x.detach(), t + h
    return x

def circles2(m):  # math.md §5
    r = torch.cat([torch.randn(m // 2) * 0.1 + 0.65, torch.randn(m - m // 2) * 0.1 + 1.4])
    a = torch.rand(m) * 2 * np.pi
    return torch.stack([r * torch.cos(a), r * torch.sin(a)], 1) * 2

g = np.linspace(-3.5, 3.5, 64)
nodes = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
cost = ot.dist(nodes, nodes)

def hist(p):
    i = np.clip(np.rint((p.numpy().astype(np.float64) + 3.5) / 7 * 63), 0, 63).astype(int)
    h = np.bincount(i[:, 0] * 64 + i[:, 1], minlength=4096).astype(np.float64)
    return h / h.sum()

def w2(a, b):
    ha, hb = hist(a), hist(b)
    s = (ha > 0) | (hb > 0)
    return ot.emd2(ha[s], hb[s], cost[np.ix_(s, s)], numItermax=10**7) ** 0.5

x0 = torch.randn(n, 2) * 0.5 ** 0.5
t0 = time.time(); ode = run(False, x0); print(f"ode: {time.time() - t0:.0f} s", flush=True)
t0 = time.time(); sde = run(True, x0); print(f"sde: {time.time() - t0:.0f} s", flush=True)
data = circles2(n)
for name, p in (("ode", ode), ("sde", sde)):
    print(f"{name} outside [-3.5, 3.5]^2: {float((p.abs() > 3.5).any(1).float().mean()):.4f}")
print(f"table metric, n = {n}, N = {N}: W2(ODE,SDE) {w2(ode, sde):.4f}  W2(ODE,data) {w2(ode, data):.4f}  "
      f"W2(SDE,data) {w2(sde, data):.4f}  (data vs data: {w2(data, circles2(n)):.4f})")
