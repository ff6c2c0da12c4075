"""``python -m utt eval [--quick] --out DIR``."""

import os

# Before torch loads: idle OpenMP threads sleep instead of spinning, which matters on small
# machines shared with other work (see utt.runtime).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from utt.cli import main

raise SystemExit(main())
