"""Reads a run folder's TensorBoard event files with TensorBoard's own reader.

Usage: python3 scripts/read_tensorboard.py <run folder>/tensorboard
Prints one JSON object: {"<run>": {"<tag>": [[step, value], ...]}} for every run (subfolder)
TensorBoard finds. Needs `pip install tensorboard`.
"""
import json
import sys

from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer


def main() -> None:
    logdir = sys.argv[1]
    mux = EventMultiplexer()
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    out = {}
    for run, tags in mux.Runs().items():
        out[run] = {tag: [[e.step, e.value] for e in mux.Scalars(run, tag)] for tag in tags.get("scalars", [])}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
