#!/usr/bin/env python3
"""FedAvg in PyTorch, for comparison with `canopy fedavg` on Fashion-MNIST.

The run of issue #16's acceptance: the 2NN (784-200-200-10), 10 clients with IID shards of the
60,000 training images, every client every round, 1 local epoch of SGD (lr 0.05, batch 32),
weighted averaging, 20 rounds, test accuracy on the 10,000 test images after every round.
Prints one JSON line per round and a last line with the wall time. Reads Debian's
dataset-fashion-mnist files. Not part of `npm test`; needs `pip install torch`.
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch
from torch import nn


def idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads; 0 keeps PyTorch's default")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    d = a.data_dir
    xs = torch.tensor(idx(f"{d}/train-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    ys = torch.tensor(idx(f"{d}/train-labels-idx1-ubyte.gz").astype(np.int64))
    tx = torch.tensor(idx(f"{d}/t10k-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    ty = torch.tensor(idx(f"{d}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    shards = np.array_split(rng.permutation(xs.shape[0]), a.clients)
    make = lambda: nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))
    global_model = make()
    local = make()
    loss_fn = nn.CrossEntropyLoss()
    started = time.perf_counter()
    cpu_started = time.process_time()
    for rnd in range(1, a.rounds + 1):
        total = {k: torch.zeros_like(v) for k, v in global_model.state_dict().items()}
        count = 0
        for c, shard in enumerate(shards):
            local.load_state_dict(global_model.state_dict())
            opt = torch.optim.SGD(local.parameters(), lr=a.lr)
            order = torch.tensor(shard[rng.permutation(len(shard))])
            for i in range(0, len(order), a.batch):
                b = order[i:i + a.batch]
                opt.zero_grad(set_to_none=True)
                loss_fn(local(xs[b]), ys[b]).backward()
                opt.step()
            for k, v in local.state_dict().items():
                total[k] += v * len(shard)
            count += len(shard)
        global_model.load_state_dict({k: v / count for k, v in total.items()})
        with torch.no_grad():
            logits = global_model(tx)
            acc = (logits.argmax(1) == ty).float().mean().item()
            loss = loss_fn(logits, ty).item()
        print(json.dumps({"round": rnd, "accuracy": round(acc, 4), "loss": round(loss, 4), "wallSeconds": round(time.perf_counter() - started, 2)}), flush=True)
    print(json.dumps({"rounds": a.rounds, "accuracy": round(acc, 4), "wallSeconds": round(time.perf_counter() - started, 2),
                      "cpuSeconds": round(time.process_time() - cpu_started, 2), "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
