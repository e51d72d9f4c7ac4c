#!/usr/bin/env python3
"""PyTorch's local training throughput on the models of `canopy bench train`, for comparison.

torch.nn Sequential versions of Canopy's models, plain SGD, batch 32, random 28x28 inputs with
10 classes: one warm-up epoch of 6,400 samples (1,600 for the McMahan CNN), then one timed
epoch of the same size. Prints one JSON line per model. Not part of `npm test`: it needs
`pip install torch` (run by scripts/bench-train-vs-pytorch.mjs).
"""
import argparse
import json
import time

import torch
from torch import nn


def build(kind: str) -> nn.Module:
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    if kind == "2nn":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))
    if kind == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(13 * 13 * 32, 10))
    if kind == "mcmahan-cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(7 * 7 * 64, 512), nn.ReLU(), nn.Linear(512, 10),
        )
    raise SystemExit(f"unknown model '{kind}'")


def epoch(model, opt, loss_fn, xs, ys, batch):
    for i in range(0, xs.shape[0], batch):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xs[i:i + batch]), ys[i:i + batch])
        loss.backward()
        opt.step()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True, choices=["mlp", "2nn", "cnn", "mcmahan-cnn"])
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads; 0 keeps PyTorch's default")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--samples", type=int, default=0, help="samples per epoch (default 6,400; 1,600 for mcmahan-cnn)")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    n = a.samples or (1600 if a.model == "mcmahan-cnn" else 6400)
    xs = torch.rand(n, 1, 28, 28)
    ys = torch.randint(0, 10, (n,))
    model = build(a.model)
    opt = torch.optim.SGD(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    epoch(model, opt, loss_fn, xs, ys, a.batch)  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    epoch(model, opt, loss_fn, xs, ys, a.batch)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({
        "model": a.model, "torch": torch.__version__, "threads": torch.get_num_threads(), "batch": a.batch,
        "samplesPerSec": round(n / wall), "samplesPerCpuSec": round(n / cpu),
    }))


if __name__ == "__main__":
    main()
