#!/usr/bin/env python3
"""Fails if Cargo.lock pins a crate version that crates.io has yanked.

    python3 tests/hardening/yanked.py [Cargo.lock]

A yank is how a crate's authors withdraw a release, often for a security fix, and the
registry index that cargo itself reads says so; this check needs nothing but that index.
It is not a vulnerability audit (that needs the RustSec database: scripts/audit).
Exit 0: none yanked; 1: some yanked or unknown; 3: the index could not be reached.
"""

import json
import re
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

INDEX = "https://index.crates.io"
SOURCES = ("registry+https://github.com/rust-lang/crates.io-index", "sparse+https://index.crates.io/")


def index_path(name: str) -> str:
    name = name.lower()
    if len(name) <= 2:
        return f"{len(name)}/{name}"
    if len(name) == 3:
        return f"3/{name[0]}/{name}"
    return f"{name[:2]}/{name[2:4]}/{name}"


def state(crate: tuple[str, str]) -> str:
    name, version = crate
    try:
        with urllib.request.urlopen(f"{INDEX}/{index_path(name)}", timeout=30) as response:
            for line in response.read().decode().splitlines():
                entry = json.loads(line)
                if entry["vers"] == version:
                    return "yanked" if entry["yanked"] else "ok"
        return "not in the index"
    except (urllib.error.URLError, OSError) as err:
        return f"unreachable ({err})"


def locked_crates(lock: str) -> list[tuple[str, str]]:
    """(name, version) of every registry package in a Cargo.lock. Read with a pattern, not
    tomllib, which Pythons before 3.11 lack; cargo writes these three lines in this order."""
    package = re.compile(r'^name = "([^"]+)"\nversion = "([^"]+)"\nsource = "([^"]+)"', re.M)
    return sorted({(name, version) for name, version, source in package.findall(lock)
                   if source.startswith(SOURCES)})


def main() -> int:
    with open(sys.argv[1] if len(sys.argv) > 1 else "Cargo.lock") as lock_file:
        crates = locked_crates(lock_file.read())
    if not crates:
        print("yanked crates: no registry package found in the lock file")
        return 1
    with ThreadPoolExecutor(8) as pool:
        states = list(pool.map(state, crates))
    bad = [(c, s) for c, s in zip(crates, states) if s in ("yanked", "not in the index")]
    unreachable = [(c, s) for c, s in zip(crates, states) if s.startswith("unreachable")]
    for (name, version), why in bad + unreachable[:5]:
        print(f"  {name} {version}: {why}")
    print(f"yanked crates: {len(crates)} locked crates checked against the crates.io index, "
          f"{len(bad)} yanked or unknown, {len(unreachable)} not reachable")
    return 1 if bad else 3 if unreachable else 0


if __name__ == "__main__":
    sys.exit(main())
