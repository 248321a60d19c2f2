"""Every process of the product runs numpy's BLAS on one thread (appliance/__init__.py).

A multi-threaded OpenBLAS wakes a worker for each small matrix product of the media
tick (DTMF filter bank) and the worker spins afterwards: with 30 calls it took 64 % of
a second core from telephonyd and starved the loop (bench/system.py).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# the DTMF receiver on 30 channels at once, as the tick runs it, then the process's
# thread count as the kernel sees it
PROBE = """
import os, numpy as np
from appliance.media.dsp.dtmf import DtmfDetector, dtmf_generate
frames = np.tile(dtmf_generate("0123456789*#", lead_ms=20).reshape(-1, 160)[:, None, :], (1, 30, 1))
detector = DtmfDetector(30)
heard = [e.digit for frame in frames for e in detector.process(frame) if e.channel == 0]
assert "".join(heard) == "0123456789*#", heard
print(len(os.listdir("/proc/self/task")))
"""


@pytest.mark.parametrize("entry", ["appliance", "hil"])
def test_a_product_process_has_no_blas_worker_threads(entry: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    probe = f"import {entry}\n" + PROBE
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                         text=True, check=True, timeout=60)
    assert int(out.stdout) == 1, f"{out.stdout.strip()} threads after `import {entry}`"

