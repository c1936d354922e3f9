"""Our Marlin simulator in a process of its own, as the firmware runs on its own board: the bench's
driver then shares neither the GIL nor its CPU accounting with it.

    .venv/bin/python bench/_marlin_sim.py [BYTES_PER_S]   # prints the pty path, serves until stdin closes

When stdin closes it prints one JSON line: the bytes its receive buffer lost, every numbered line it
ran, in order (N, command), so the bench can check that each job line ran exactly once, and the CPU
seconds it used (is the simulator itself what limits the rate?).
"""

from __future__ import annotations

import json
import sys
import time

from fablabctl.machines.sim.marlin_sim import MarlinSimulator


def main() -> None:
    rate = float(sys.argv[1]) if len(sys.argv) > 1 and float(sys.argv[1]) > 0 else None
    with MarlinSimulator(bytes_per_s=rate) as sim:
        print(sim.port, flush=True)
        cpu = time.process_time()  # from here: the imports are not the simulator's work
        sys.stdin.read()  # until the bench closes our stdin
        report = {
            "overflowed_bytes": sim.overflowed_bytes,
            "numbered": sim.numbered,
            "cpu_s": time.process_time() - cpu,
        }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
