"""epsilon from Google's dp-accounting for settings of the Poisson-sampled Gaussian mechanism.

Reads a JSON list of {"q", "sigma", "steps", "delta"} on stdin and prints a JSON list of
{"epsilon", "version"} in the same order, from dp_accounting's RdpAccountant with its default
orders. Used by test/protocol/rdpAccountant.test.ts and scripts/check-dp-accountant.mjs to check
Canopy's accountant; needs `pip install dp-accounting` (exits 3 with one line when it is missing).
"""
import json
import sys

try:
    import dp_accounting
    from dp_accounting import dp_event, rdp
except ImportError as e:  # one line, so the caller can skip
    print(f"dp-accounting is not installed ({e})", file=sys.stderr)
    sys.exit(3)

try:
    from importlib.metadata import version
    VERSION = version("dp-accounting")
except Exception:  # noqa: BLE001 - only a label
    VERSION = getattr(dp_accounting, "__version__", "unknown")

out = []
for s in json.load(sys.stdin):
    acc = rdp.RdpAccountant()
    event = dp_event.PoissonSampledDpEvent(s["q"], dp_event.GaussianDpEvent(s["sigma"]))
    acc.compose(dp_event.SelfComposedDpEvent(event, int(s["steps"])))
    out.append({"epsilon": acc.get_epsilon(s["delta"]), "version": VERSION})
print(json.dumps(out))
