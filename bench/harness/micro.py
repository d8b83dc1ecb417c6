"""HS256 and EdDSA verifications per second, the same two tokens three ways in one run: the
core natively (criterion), the wasm package in Node, and jose in Node."""

import json
import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def native(target_dir: Path, profile: str, seconds: float) -> dict:
    """{"HS256": per_second, "EdDSA": per_second} from criterion's own estimates.
    --workspace rather than -p latchkey-core: cargo resolves features over the packages
    named, so in the smoke profile (dev) the core and its dependencies are then the ones
    `cargo test --workspace` built, not a second build of them. Only the core has a bench
    named verify."""
    subprocess.run(
        ["cargo", "bench", "--quiet", "--profile", profile, "--workspace",
         "--bench", "verify", "--", "--warm-up-time", str(max(seconds / 4, 0.1)),
         "--measurement-time", str(seconds), "--noplot"],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )
    rates = {}
    for alg in ("HS256", "EdDSA"):
        estimates = json.loads((target_dir / "criterion" / alg / "new" / "estimates.json").read_text())
        rates[alg] = 1e9 / estimates["median"]["point_estimate"]
    return rates


def node(seconds: float) -> dict:
    """Rows of pkg/bench/verify.mjs: the wasm package and jose, labelled by verifier."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            ["node", "bench/verify.mjs"], cwd=ROOT / "pkg", check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "BENCH_SECS": str(seconds), "BENCH_JSON": out.name},
        )
        return json.loads(Path(out.name).read_text())


def run(target_dir: Path, profile: str, seconds: float) -> dict:
    rows = [{"verifier": f"latchkey core (native, criterion) {alg}", "alg": alg, "per_sec": rate}
            for alg, rate in native(target_dir, profile, seconds).items()]
    measured = node(seconds)
    for r in measured["rows"]:
        rows.append({"verifier": r["label"], "alg": r["label"].split()[-1], "per_sec": r["perSec"]})
    return {"node": measured["node"], "rows": rows}
