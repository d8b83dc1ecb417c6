"""The results as Markdown: the load table, the peers (versions, hashes, start-up, memory,
sign-in against its hash-bound limit), the micro table, and where the targets stand."""


def _n(v, digits=2):
    if v is None:
        return "n/a"
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}" if v < 100 else f"{v:.0f}"


def _db(row) -> str:
    if not row["peer"].endswith("(PostgreSQL)"):
        return ""
    return _n(row["db_cpu_ms_per_request"], 3)


def loads_table(results) -> str:
    lines = ["| peer | load | conns | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | + PostgreSQL's CPU ms/req | peak RSS MB | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    titles = {l["key"]: l["title"] for l in results["loads"]}
    for r in results["rows"]:
        lines.append(
            f"| {r['peer']} | {titles[r['load']]} | {r['connections']} | {_n(r['rps'], 0)} "
            f"| {_n(r['p50_ms'])} | {_n(r['p95_ms'])} | {_n(r['p99_ms'])} "
            f"| {_n(r['cpu_ms_per_request'], 3)} | {_db(r)} "
            f"| {_n(r['peak_rss_mb'], 1)} | {r['errors']} |")
    for p in results["peers"]:
        if not p.get("refresh"):
            lines.append(f"| {p['name']} | refresh | | n/a | | | | | | | |")
    return "\n".join(lines)


def peers_table(results) -> str:
    lines = ["| peer | versions | password hash | one hash, CPU ms | the same, every core hashing "
             "| hash-bound sign-ins/s | sign-ins/s | of the bound | sign-in, server CPU ms "
             "| the hash's share of it | start-up ms | idle RSS MB |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p in results["peers"]:
        signin = next((r for r in results["rows"] if r["peer"] == p["name"] and r["load"] == "signin"), None)
        versions = ", ".join(f"{k} {v}" for k, v in p["versions"].items())
        hash_ms, bound = p["hash"]["ms"], p["hash_bound_per_s"]
        if signin:
            got, cpu = signin["rps"], signin["cpu_ms_per_request"]
            measured = f"| {_n(got, 1)} | {100 * got / bound:.0f} % | {_n(cpu, 1)} | {100 * hash_ms / cpu:.0f} % "
        else:
            measured = "| n/a | | | "
        lines.append(
            f"| {p['name']} | {versions} | {p['hash']['algorithm']} {p['hash']['params']} "
            f"| {_n(hash_ms, 1)} | {_n(p['hash'].get('all_cores_ms'), 1)} | {_n(bound, 1)} "
            f"{measured}| {_n(p['startup_ms'], 0)} | {_n(p['idle_rss_mb'], 1)} |")
    return "\n".join(lines)


def micro_table(micro) -> str:
    if not micro:
        return "(not run)"
    jose = {r["alg"]: r["per_sec"] for r in micro["rows"] if r["verifier"].startswith("jose")}
    lines = ["| verifier | verifications/s | µs each | × jose |", "|---|---:|---:|---:|"]
    for r in micro["rows"]:
        ratio = r["per_sec"] / jose[r["alg"]] if jose.get(r["alg"]) else None
        lines.append(f"| {r['verifier']} | {r['per_sec']:,.0f} | {1e6 / r['per_sec']:.2f} "
                     f"| {_n(ratio, 1)} |")
    return "\n".join(lines)


def targets(results) -> list:
    """(target, figure, met) for each target the issue set; None where not measured."""
    row = lambda peer, load: next(
        (r for r in results["rows"] if r["peer"].startswith(peer) and r["load"] == load), None)
    out = []
    lk = row("Latchkey (SQLite)", "session")
    for peer, want in (("Better Auth (DB", 30), ("FastAPI", 5)):
        other = row(peer, "session")
        if lk and other:
            ratio = other["cpu_ms_per_request"] / lk["cpu_ms_per_request"]
            out.append((f"session check CPU/request ≤ 1/{want} of {other['peer']}",
                        f"1/{ratio:.1f}", ratio >= want))
    for label in ("SQLite", "PostgreSQL"):
        r = row(f"Latchkey ({label})", "session")
        if r:
            out.append((f"session check p99 ≤ 5 ms at 32 connections ({label})",
                        f"{r['p99_ms']:.2f} ms", r["p99_ms"] <= 5))
    for p in results["peers"]:
        if not p["name"].startswith("Latchkey"):
            continue
        r = row(p["name"], "signin")
        if r:
            frac = r["rps"] / p["hash_bound_per_s"]
            out.append((f"sign-in ≥ 90 % of the hash-bound limit ({p['name']})",
                        f"{100 * frac:.0f} %", frac >= 0.9))
            share = p["hash"]["ms"] / r["cpu_ms_per_request"]
            out.append((f"the hash's share of the server's CPU per sign-in ({p['name']})",
                        f"{100 * share:.0f} %", share >= 0.9))
        r = row(p["name"], "refresh")
        if r:
            out.append((f"refresh p95 ≤ 5 ms ({p['name']})", f"{r['p95_ms']:.2f} ms", r["p95_ms"] <= 5))
        out.append((f"idle RSS ≤ 30 MB ({p['name']})", f"{p['idle_rss_mb']:.1f} MB", p["idle_rss_mb"] <= 30))
    micro = results.get("micro")
    if micro:
        rate = {r["verifier"]: r["per_sec"] for r in micro["rows"]}
        for alg in ("HS256", "EdDSA"):
            wasm = rate.get(f"latchkey (wasm) {alg}")
            jose = rate.get(f"jose (node:crypto) {alg}")
            if wasm and jose:
                out.append((f"wasm {alg} verify ≥ 3× jose", f"{wasm / jose:.1f}×", wasm / jose >= 3))
    return out


def targets_table(results) -> str:
    lines = ["| target | measured | met |", "|---|---:|:---:|"]
    for name, figure, met in targets(results):
        lines.append(f"| {name} | {figure} | {'yes' if met else '**no**'} |")
    return "\n".join(lines)


def markdown(results) -> str:
    m = results["machine"]
    skipped = "".join(f"- skipped: {s}\n" for s in results["skipped"]) or ""
    return f"""Run {results['date']} ({results['profile']} profile), {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, Linux {m['kernel']}.
Latchkey {results['latchkey']}; PostgreSQL {results.get('postgres') or 'n/a'}.
{skipped}
### Loads

{loads_table(results)}

### Peers: versions, password hashing, start-up and memory

{peers_table(results)}

Hash-bound sign-ins/s = {m['cores']} cores ÷ the CPU time of one hash at the peer's parameters on one thread, measured by the peer's own code just before its sign-in load. "Every core hashing" is the same with all cores hashing at once (Latchkey's timer only): memory-hard hashes slow each other down through the shared cache and memory. "The hash's share" = one hash's CPU time ÷ the server's CPU time per sign-in: how little else a sign-in costs, a figure that holds on a busy machine where requests/s do not.

### Token verification (one thread)

{micro_table(results.get('micro'))}

### Targets

{targets_table(results)}
"""
