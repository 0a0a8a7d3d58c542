#!/usr/bin/python3
"""PyTorch files and their expected contents for tests/io/test_torch_import.cpp.

Run with Debian's interpreter, which has python3-torch:
    /usr/bin/python3 scripts/make_torch_fixtures.py [--paper FILE]
It rewrites tests/fixtures/torch/*.pt and tests/fixtures/torch/expected.json. Every
network is drawn from a fixed seed. The expected parameters are written with repr() of
the float32 values widened to double, which round-trips exactly; the expected scores are
computed in float64 from the float32 parameters, so the C++ side (float32) differs from
them only by its own rounding.

--paper FILE (default: ../shared/fixtures/paper/circles2_net__FP_weight_1.0__iteration_100000
next to the repository) adds the authors' network's scores at a few (t, x) under "paper";
when the file is absent the previous "paper" entry is kept.
"""
import argparse
import copy
import json
import os
import sys
import types

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "torch")
PAPER = os.path.join(ROOT, "..", "shared", "fixtures", "paper", "circles2_net__FP_weight_1.0__iteration_100000")

# The classes below are pickled by reference (module name + class name), like any user's
# network. They live in a module of their own name, so the files name a class that
# LibTorch has never heard of, as the authors' `models.Net` is.
fixture_nets = types.ModuleType("fixture_nets")
sys.modules["fixture_nets"] = fixture_nets


class TinyPotential(nn.Module):
    """The authors' layout at a small size: input, hidden1, output and an activation child."""

    def __init__(self, d=2, width=8, beta=2.5):
        super().__init__()
        self.input = nn.Linear(d + 1, width)
        self.activation = nn.Softplus(beta=beta)
        self.hidden1 = nn.Linear(width, width)
        self.output = nn.Linear(width, 1)

    def forward(self, tx):
        h = self.activation(self.input(tx))
        h = self.activation(self.hidden1(h))
        return self.output(h)


class Potential1D(nn.Module):
    """Layers nested in a ModuleList; SiLU activation."""

    def __init__(self, width=6):
        super().__init__()
        self.act = nn.SiLU()
        self.layers = nn.ModuleList([nn.Linear(2, width), nn.Linear(width, width), nn.Linear(width, 1)])

    def forward(self, tx):
        h = tx
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i + 1 < len(self.layers):
                h = self.act(h)
        return h


class MainNet(nn.Module):
    """The authors' Net, for the case of a class defined in a training script's __main__."""

    def __init__(self):
        super().__init__()
        self.input = nn.Linear(3, 5)
        self.hidden1 = nn.Linear(5, 5)
        self.output = nn.Linear(5, 1)
        self.activation = nn.Softplus(beta=100)

    def forward(self, tx):
        h = self.activation(self.input(tx))
        h = self.activation(self.hidden1(h))
        return self.output(h)


for cls in (TinyPotential, Potential1D):
    cls.__module__ = "fixture_nets"
    setattr(fixture_nets, cls.__name__, cls)
MainNet.__module__ = "__main__"
sys.modules["__main__"].MainNet = MainNet


class PaperNet(nn.Module):
    """The authors' models.Net as their README describes it (for loading their file only)."""

    def forward(self, tx):
        h = self.activation(self.input(tx))
        h = self.activation(self.hidden1(h))
        h = self.activation(self.hidden2(h))
        return self.output(h)


models = types.ModuleType("models")
PaperNet.__name__ = PaperNet.__qualname__ = "Net"
PaperNet.__module__ = "models"
models.Net = PaperNet
sys.modules["models"] = models


def linear_params(net):
    """(weight, bias) of every nn.Linear in definition order, as lists of doubles."""
    out = []
    for m in net.modules():
        if isinstance(m, nn.Linear):
            out.append({"weight": [float(v) for v in m.weight.detach().reshape(-1)],
                        "bias": [float(v) for v in m.bias.detach().reshape(-1)]})
    return out


POINTS = [(0.05, [0.3, -0.7]), (1.0, [-1.2, 0.4]), (4.5, [2.0, 1.5]), (9.0, [-0.1, -2.5])]
POINTS_1D = [(0.05, [0.3]), (1.0, [-1.2]), (4.5, [2.0]), (9.0, [-2.5])]


def scores(fn, potential, points):
    """Score at (t, x): the gradient in x of a potential network, or its output."""
    out = []
    for t, x in points:
        xv = torch.tensor([x], dtype=torch.float64, requires_grad=True)
        tv = torch.tensor([[t]], dtype=torch.float64)
        y = fn(torch.cat([tv, xv], 1))
        if potential:
            (g,) = torch.autograd.grad(y.sum(), xv)
            s = g[0]
        else:
            s = y[0]
        out.append({"t": t, "x": x, "score": [float(v) for v in s.detach()]})
    return out


def spec(d, hidden, layers, potential, activation, beta=100.0):
    return {"d": d, "hidden": hidden, "layers": layers, "potential": potential, "activation": activation,
            "beta": beta}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--paper", default=PAPER)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    expected_path = os.path.join(OUT, "expected.json")
    previous = {}
    if os.path.exists(expected_path):
        with open(expected_path) as f:
            previous = json.load(f)
    cases = []

    def save(obj, name):
        torch.save(obj, os.path.join(OUT, name))

    def add(name, saved, net, sp, source, iteration=0, points=POINTS, **extra):
        """Saves `saved` as `name` and records what reading it must give: `net`'s layers and scores."""
        save(saved, name)
        ref = copy.deepcopy(net).double()
        case = {"file": name, "spec": sp, "source": source, "iteration": iteration, "layers": linear_params(net),
                "scores": scores(ref, sp["potential"], points)}
        case.update(extra)
        cases.append(case)

    # A whole pickled module of a class named fixture_nets.TinyPotential, β read from it.
    torch.manual_seed(1)
    tiny = TinyPotential()
    spec_tiny = spec(2, 8, 2, True, "softplus", 2.5)
    add("module_potential.pt", tiny, tiny, spec_tiny, "module")

    # Its state_dict: no activation in the file, so the reader assumes Softplus(β = 100);
    # the network the scores come from has exactly that.
    torch.manual_seed(2)
    sd_net = TinyPotential(beta=100.0)
    spec_sd = spec(2, 8, 2, True, "softplus")
    add("state_dict.pt", sd_net.state_dict(), sd_net, spec_sd, "state_dict", assumed_activation=True)

    # The same state_dict wrapped as training scripts save it, with an iteration count.
    add("wrapped_state_dict.pt", {"state_dict": sd_net.state_dict(), "iteration": 1234}, sd_net, spec_sd,
        "state_dict", iteration=1234, assumed_activation=True)

    # A whole module under "model" next to an optimiser's state (nested dicts, int keys,
    # tuples, None, tensors that are not weights) and a step count.
    torch.manual_seed(3)
    wrapped = TinyPotential(beta=2.5)
    opt = torch.optim.Adam(wrapped.parameters(), lr=1e-3)
    wrapped(torch.randn(4, 3)).sum().backward()
    opt.step()
    add("wrapped_model.pt", {"model": wrapped, "optimizer": opt.state_dict(), "step": 77}, wrapped, spec_tiny,
        "module", iteration=77)

    # A score model (output dimension d) as a whole nn.Sequential with Tanh between layers.
    torch.manual_seed(4)
    score = nn.Sequential(nn.Linear(3, 7), nn.Tanh(), nn.Linear(7, 7), nn.Tanh(), nn.Linear(7, 7), nn.Tanh(),
                          nn.Linear(7, 2))
    add("score_sequential.pt", score, score, spec(2, 7, 3, False, "tanh"), "module")

    # A 1-D potential, layers nested in a ModuleList, SiLU.
    torch.manual_seed(5)
    one = Potential1D()
    add("potential_1d.pt", one, one, spec(1, 6, 2, True, "silu"), "module", points=POINTS_1D)

    # A class defined in a training script itself (pickled as __main__.MainNet).
    torch.manual_seed(6)
    main_net = MainNet()
    add("module_main.pt", main_net, main_net, spec(2, 5, 2, True, "softplus"), "module")

    # Files that must be refused, each for one reason.
    torch.manual_seed(7)
    conv = nn.Sequential(nn.Conv1d(1, 2, 3), nn.Softplus(beta=100), nn.Linear(2, 1))
    save(conv, "bad_conv.pt")
    uneven = nn.Sequential(nn.Linear(3, 8), nn.Softplus(beta=100), nn.Linear(8, 6), nn.Softplus(beta=100),
                           nn.Linear(6, 1))
    save(uneven, "bad_uneven_width.pt")
    chain = nn.Sequential(nn.Linear(3, 8), nn.Softplus(beta=100), nn.Linear(5, 1))
    save(chain.state_dict(), "bad_chain.pt")
    save({"epoch": 3, "lr": 0.1}, "bad_no_weights.pt")
    with open(os.path.join(OUT, "bad_not_torch.pt"), "w") as f:
        f.write("this is not a torch file\n")

    out = {"cases": cases}
    if os.path.exists(args.paper):
        net = torch.load(args.paper, map_location="cpu")
        net32 = net.float()
        ref = copy.deepcopy(net32).double()
        out["paper"] = {
            "file": os.path.basename(args.paper),
            "spec": spec(2, 80, 3, True, "softplus"),
            "first_weights": [float(v) for v in net32.input.weight.detach().reshape(-1)[:6]],
            "output_bias": float(net32.output.bias.detach()[0]),
            "scores": scores(ref, True, POINTS),
        }
    elif "paper" in previous:
        out["paper"] = previous["paper"]
    with open(expected_path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
