"""Call-center telephony appliance firmware."""

import os
from importlib.metadata import PackageNotFoundError, version

# One BLAS thread in every process of the product, set before numpy loads its BLAS.
# The media tick multiplies small matrices (DTMF and call-progress filter banks, 20 ms
# of 160 samples): a multi-threaded OpenBLAS wakes a worker for each product and the
# worker then spins waiting for more, which cost telephonyd 64 % of a second core with
# 30 calls (bench/system.py: 90 % -> 25 % of a core, 6 stalls -> 0) and starved the
# simulators and the event loop. An operator's own setting is kept.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

try:
    __version__ = version("appliance")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+src"
