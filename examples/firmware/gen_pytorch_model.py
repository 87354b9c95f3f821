#!/usr/bin/env python3
"""Regenerates `examples/firmware/src/pytorch_model.rs`: the ItalyPowerDemand GRU trained in
PyTorch, converted by `tools/tinyrnn_convert.py`, with four real ItalyPowerDemand TEST series as
its golden input.

    python3 examples/firmware/gen_pytorch_model.py     # from any directory; CPU, seconds

Needs torch, numpy and safetensors (as `examples/pytorch/train_italy_power.py`). Steps:

1. `examples/data/italy_power_gru.safetensors` (the trained `state_dict`) is read with
   `safetensors.torch.load_file` and saved with `torch.save` as a `.pt` state_dict;
2. the golden series are read from `examples/data/ItalyPowerDemand_TEST.ts` (the training
   script's parser; each value rounded once to float32, as training and the Rust reader do)
   and saved as a `(4, 24, 1)` float32 `.npy`;
3. the converter's command line runs on them:

       python3 tools/tinyrnn_convert.py torch \\
           --module examples/pytorch/train_italy_power.py:Net --state-dict <the .pt> \\
           --modules rnn,fc --name italy_power_gru --golden-input <the .npy> \\
           -o examples/firmware/src/pytorch_model.rs

   (`--module ...:Net` loads the state_dict into the training script's own `Net`, strictly, so
   the tensors keep PyTorch's `state_dict` order and the GRU's kind is read from the module);
4. the golden outputs' last step (the converter runs `rnn` then `fc` on every step, batch 1)
   is compared with PyTorch's committed test logits,
   `examples/data/italy_power_gru_torch_logits.csv` (computed with batch 1029), within the
   converter's tolerance `|a - b| <= 1e-5 * max(1, |b|)`, and the comparison is printed.

The golden series (test-file order, 0-based; `workload::PT_TEST_INDEX` in the firmware, which
`tests/firmware_golden.rs` checks against this file's output):

- 0: the first test series (class "2", predicted correctly);
- 5: the first test series of class "1";
- 802: the series whose two PyTorch logits are closest (|margin| 0.009): the predicted class
  there is the most sensitive to rounding;
- 32: the first series PyTorch misclassifies (tinyrnn must make the same mistake).
"""

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "examples" / "pytorch"))
import tinyrnn_convert as tc  # noqa: E402
import train_italy_power as tip  # noqa: E402

WEIGHTS = ROOT / "examples" / "data" / "italy_power_gru.safetensors"
LOGITS = ROOT / "examples" / "data" / "italy_power_gru_torch_logits.csv"
TEST = ROOT / "examples" / "data" / "ItalyPowerDemand_TEST.ts"
OUT = HERE / "src" / "pytorch_model.rs"
NAME = "italy_power_gru"
SERIES = (0, 5, 802, 32)
COMMAND = "python3 examples/firmware/gen_pytorch_model.py"


def main():
    series, labels, names = tip.read_ts(TEST)
    logits = np.loadtxt(LOGITS, delimiter=",", skiprows=1, dtype=np.float64).astype(np.float32)
    if logits.shape != (len(series), tip.N_Y):
        raise SystemExit(f"{LOGITS}: shape {logits.shape}, want ({len(series)}, {tip.N_Y})")
    # (S, T_X, 1): float32 as torch.tensor(series, dtype=torch.float32) rounds them.
    x = np.array([[[v] for v in series[k]] for k in SERIES], dtype=np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        sd_path = os.path.join(tmp, "italy_power_gru.pt")
        torch.save(load_file(WEIGHTS), sd_path)
        x_path = os.path.join(tmp, "italy_power_test_" + "_".join(map(str, SERIES)) + ".npy")
        np.save(x_path, x)
        argv = ["torch", "--module", str(ROOT / "examples/pytorch/train_italy_power.py") + ":Net",
                "--state-dict", sd_path, "--modules", "rnn,fc", "--name", NAME,
                "--golden-input", x_path, "-o", str(OUT)]
        prov = (
            f"{COMMAND}: examples/data/italy_power_gru.safetensors saved as a state_dict "
            f"(italy_power_gru.pt);\n"
            f"  ItalyPowerDemand TEST series {', '.join(map(str, SERIES))} (0-based, file order) "
            f"as a (4, 24, 1) float32 .npy; then\n"
            f"  python3 tools/tinyrnn_convert.py torch --module "
            f"examples/pytorch/train_italy_power.py:Net --state-dict italy_power_gru.pt "
            f"--modules rnn,fc --name {NAME} --golden-input {os.path.basename(x_path)} "
            f"-o examples/firmware/src/pytorch_model.rs"
        )
        tc.main(argv, provenance=prov)

    # The converter recomputed PyTorch's outputs one series at a time; its last step must be
    # the committed logits (computed by the training script over the whole test set at once).
    cv_y = tc.convert_torch(tip.Net(), load_file(WEIGHTS), "rnn,fc", name=NAME,
                            golden_x=x).golden_y
    worst = 0.0
    print(f"{'test':>5} {'class':>5}  {'golden (last step)':>26}  {'committed CSV':>26}  pred")
    for k, idx in enumerate(SERIES):
        g, c = cv_y[k, -1], logits[idx]
        e = float(np.max(np.abs(g.astype(np.float64) - c) / np.maximum(1.0, np.abs(c))))
        worst = max(worst, e)
        print(f"{idx:>5} {names[labels[idx]]:>5}  {g[0]:>12.7f} {g[1]:>12.7f}  "
              f"{c[0]:>12.7f} {c[1]:>12.7f}  {names[int(np.argmax(g))]}")
    print(f"worst |golden - csv| / max(1, |csv|) = {worst:.3g} (tolerance {tc.TOL_F32:g})")
    if not worst <= tc.TOL_F32:
        raise SystemExit("the golden outputs do not match the committed PyTorch logits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
