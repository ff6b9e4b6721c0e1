"""CPU cost of starting the CLI: `fiscalwatch check --help` against `python -c "import pdfplumber"`.

CPU seconds (user + system) of each child process, best of N, so other load on the machine matters little.

    .venv/bin/python benchmarks/cli_startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {
    "python -c 'import pdfplumber'": [sys.executable, "-c", "import pdfplumber"],
    "fiscalwatch check --help": [sys.executable, "-m", "fiscalwatch.cli", "check", "--help"],
    "fiscalwatch --help": [sys.executable, "-m", "fiscalwatch.cli", "--help"],
    # What `check FILE` loads before it reads a byte: the parsers and validators of every format.
    "import fiscalwatch.validators.checker": [sys.executable, "-c", "import fiscalwatch.validators.checker"],
}


def cpu_seconds(command: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best_cpu(command: list[str], repeat: int) -> float:
    return min(cpu_seconds(command) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    results = {name: best_cpu(command, args.repeat) for name, command in COMMANDS.items()}
    baseline = results["python -c 'import pdfplumber'"]
    for name, seconds in results.items():
        print(f"{name:34} {seconds:6.3f} CPU-s  ({seconds / baseline:.2f}× pdfplumber import)")


if __name__ == "__main__":
    main()
