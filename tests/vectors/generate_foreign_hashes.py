#!/usr/bin/env python3
"""Writes foreign-hashes.json: password hashes made by the libraries users move in from, and
what verifying them must answer. The Rust core runs every case (crates/core/tests/
foreign_hashes.rs); the wasm package does not hash passwords, so it has no part here.

Every hash is made by the real library through its public API, and every true/false answer
is the library's own verify call, asserted here to be what the case is about:
  - Python's `bcrypt` 4.x and passlib 1.7.4 on it (the seeds' FastAPI: CryptContext(["bcrypt"])),
  - Python's `bcrypt` 5.x, in a second interpreter (passlib 1.7.4 cannot load it),
  - passlib's `scrypt`,
  - better-auth's `hashPassword`/`verifyPassword` (`better-auth/crypto`), in Node.
Salts are random, so a new run writes new hashes with the same answers. Refused cases (too
costly, formats we do not verify) are Latchkey's policy, written by hand from real hashes.

Run by hand (CI runs the JSON, it does not regenerate it):
    python3 -m venv /tmp/venv-hash && /tmp/venv-hash/bin/pip install 'bcrypt>=4.3,<5' passlib==1.7.4
    python3 -m venv /tmp/venv-bcrypt5 && /tmp/venv-bcrypt5/bin/pip install 'bcrypt>=5,<6'
    mkdir -p /tmp/ba && (cd /tmp/ba && npm init -y >/dev/null && npm install better-auth@1)
    /tmp/venv-hash/bin/python tests/vectors/generate_foreign_hashes.py \\
        --bcrypt5-python /tmp/venv-bcrypt5/bin/python --better-auth-dir /tmp/ba
"""
import argparse
import json
import logging
import os
import platform
import subprocess
import sys
from importlib.metadata import version

import bcrypt
from passlib.context import CryptContext
from passlib.hash import bcrypt as passlib_bcrypt
from passlib.hash import pbkdf2_sha256
from passlib.hash import scrypt as passlib_scrypt

# passlib 1.7.4 logs a harmless traceback looking for `bcrypt.__about__`, gone since 4.1.
logging.getLogger("passlib").setLevel(logging.ERROR)

PASSWORD = "correct horse battery staple"
# 73 bytes: one past what bcrypt reads.
LONG = "a-password-that-is-seventy-three-bytes-long-which-bcrypt-cuts-at-72-xyz!!"
assert len(LONG.encode()) == 73
# Non-ASCII, written composed (NFC): é is one code point here.
UNICODE = "pässwörd café ﬁ 密码"
# The same text decomposed (NFD é) and without the ligature (NFKC ﬁ → fi): another byte
# string, the same password after Better Auth's NFKC normalisation.
UNICODE_NFKC_TWIN = "pässwörd cafe\u0301 fi 密码"
assert UNICODE.encode() != UNICODE_NFKC_TWIN.encode()
# 71 ASCII bytes and a two-byte character: bcrypt's 72 bytes end inside the é (C3 A9), so
# the same 71 bytes and è (C3 A8) give the same 72.
SPLIT = "x" * 71 + "é"
SPLIT_TWIN = "x" * 71 + "è"

NODE_HASHER = """
import { hashPassword, verifyPassword } from "better-auth/crypto";
const jobs = JSON.parse(JOBS);
const out = [];
for (const job of jobs) {
  const hash = await hashPassword(job.make);
  const answers = [];
  for (const password of job.check) answers.push(await verifyPassword({ hash, password }));
  out.push({ hash, answers });
}
console.log(JSON.stringify(out));
"""

BCRYPT5_HASHER = """
import bcrypt, json, sys
jobs = json.load(sys.stdin)
out = []
for job in jobs:
    hash = bcrypt.hashpw(job["make"].encode(), bcrypt.gensalt(job["cost"]))
    answers = []
    for password in job["check"]:
        try:
            answers.append(bcrypt.checkpw(password.encode(), hash))
        except ValueError as e:
            answers.append("ValueError: " + str(e))
    out.append({"hash": hash.decode(), "answers": answers})
print(json.dumps({"version": bcrypt.__version__, "made": out}))
"""


def case(name, made_by, stored, password, expect, scheme=None, note=None):
    c = {"name": name, "madeBy": made_by, "hash": stored, "password": password, "expect": expect}
    if scheme:
        c["scheme"] = scheme
    if note:
        c["note"] = note
    return c


def checked(made_by, stored, scheme, answers):
    """Cases for `stored`, one per (name, password, expected), each answer asserted first by
    the library's own verify."""
    out = []
    for name, password, expected, library_says in answers:
        assert library_says == expected, (name, library_says)
        out.append(case(name, made_by, stored, password, expected, scheme))
    return out


def python_bcrypt():
    by = f"python bcrypt {bcrypt.__version__}"
    cases = []
    h12 = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(12)).decode()
    check = lambda pw, h: bcrypt.checkpw(pw.encode(), h.encode())
    cases += checked(by, h12, "bcrypt", [
        ("bcrypt cost 12: the right password", PASSWORD, True, check(PASSWORD, h12)),
        ("bcrypt cost 12: a wrong password", PASSWORD + "!", False, check(PASSWORD + "!", h12)),
    ])
    long = bcrypt.hashpw(LONG.encode(), bcrypt.gensalt(4)).decode()
    cases += checked(by, long, "bcrypt", [
        ("bcrypt, a 73-byte password: itself", LONG, True, check(LONG, long)),
        ("bcrypt, a 73-byte password: its first 72 bytes (bcrypt 4 truncates)", LONG[:72], True, check(LONG[:72], long)),
        ("bcrypt, a 73-byte password: its first 72 bytes and another tail", LONG[:72] + "?", True, check(LONG[:72] + "?", long)),
        ("bcrypt, a 73-byte password: its first 71 bytes", LONG[:71], False, check(LONG[:71], long)),
    ])
    split = bcrypt.hashpw(SPLIT.encode(), bcrypt.gensalt(4)).decode()
    cases += checked(by, split, "bcrypt", [
        ("bcrypt: the 72nd byte ends inside a character; another character with that first byte", SPLIT_TWIN, True, check(SPLIT_TWIN, split)),
        ("bcrypt: the 72nd byte ends inside a character; a character with another first byte", "x" * 71 + "ā", False, check("x" * 71 + "ā", split)),
    ])
    uni = bcrypt.hashpw(UNICODE.encode(), bcrypt.gensalt(4)).decode()
    cases += checked(by, uni, "bcrypt", [
        ("bcrypt, non-ASCII: the same UTF-8 bytes", UNICODE, True, check(UNICODE, uni)),
        ("bcrypt, non-ASCII: no normalisation, so NFD is another password", UNICODE_NFKC_TWIN, False, check(UNICODE_NFKC_TWIN, uni)),
    ])
    two_a = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4, prefix=b"2a")).decode()
    assert two_a.startswith("$2a$")
    cases += checked(by, two_a, "bcrypt", [
        ("bcrypt $2a$: the right password", PASSWORD, True, check(PASSWORD, two_a)),
    ])
    # PHP writes $2y$ for the same algorithm; Python's bcrypt cannot make one but verifies it.
    two_y = "$2y$" + bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()[4:]
    cases += checked(by + " (prefix written as PHP writes it)", two_y, "bcrypt", [
        ("bcrypt $2y$: the right password", PASSWORD, True, check(PASSWORD, two_y)),
        ("bcrypt $2y$: a wrong password", "correct horse battery", False, check("correct horse battery", two_y)),
    ])
    return cases, h12


def python_bcrypt5(interpreter):
    jobs = [
        {"make": PASSWORD, "cost": 4, "check": [PASSWORD, PASSWORD.upper()]},
        {"make": LONG[:72], "cost": 4, "check": [LONG[:72], LONG]},
    ]
    run = subprocess.run([interpreter, "-c", BCRYPT5_HASHER], input=json.dumps(jobs),
                         capture_output=True, text=True, check=True)
    result = json.loads(run.stdout)
    by = f"python bcrypt {result['version']}"
    assert result["version"].startswith("5."), result["version"]
    (short, long) = result["made"]
    cases = checked(by, short["hash"], "bcrypt", [
        ("bcrypt 5: the right password", PASSWORD, True, short["answers"][0]),
        ("bcrypt 5: a wrong password", PASSWORD.upper(), False, short["answers"][1]),
    ])
    cases += checked(by, long["hash"], "bcrypt", [
        ("bcrypt 5, a 72-byte password: itself", LONG[:72], True, long["answers"][0]),
    ])
    # bcrypt 5 raises for a password over 72 bytes; Latchkey answers as bcrypt 4 and passlib.
    assert long["answers"][1].startswith("ValueError"), long["answers"][1]
    cases.append(case("bcrypt 5, a 72-byte password: with a 73rd byte", by, long["hash"], LONG, True, "bcrypt",
                      note=f"bcrypt {result['version']} raises here ({long['answers'][1]}); Latchkey truncates to 72 bytes as bcrypt 4 and passlib do"))
    return cases, result["version"]


def passlib_cases():
    by = f"passlib {version('passlib')} on bcrypt {bcrypt.__version__}"
    # What the seeds' FastAPI writes: CryptContext(schemes=["bcrypt"]) at its default cost, 12.
    context = CryptContext(schemes=["bcrypt"], deprecated="auto")
    h12 = context.hash(PASSWORD)
    assert h12.startswith("$2b$12$"), h12
    cases = checked(by + ", CryptContext(schemes=['bcrypt'])", h12, "bcrypt", [
        ("passlib bcrypt cost 12: the right password", PASSWORD, True, context.verify(PASSWORD, h12)),
    ])
    long = passlib_bcrypt.using(rounds=4).hash(LONG)
    cases += checked(by, long, "bcrypt", [
        ("passlib bcrypt, a 73-byte password: itself", LONG, True, passlib_bcrypt.verify(LONG, long)),
        ("passlib bcrypt, a 73-byte password: its first 72 bytes (passlib truncates)", LONG[:72], True, passlib_bcrypt.verify(LONG[:72], long)),
        ("passlib bcrypt, a 73-byte password: a wrong one", LONG.upper(), False, passlib_bcrypt.verify(LONG.upper(), long)),
    ])
    uni = passlib_bcrypt.using(rounds=4).hash(UNICODE)
    cases += checked(by, uni, "bcrypt", [
        ("passlib bcrypt, non-ASCII: the right password", UNICODE, True, passlib_bcrypt.verify(UNICODE, uni)),
    ])
    sby = f"passlib {version('passlib')} scrypt ({passlib_scrypt.get_backend()} backend)"
    default = passlib_scrypt.hash(PASSWORD)
    assert default.startswith("$scrypt$ln=16,r=8,p=1$"), default
    cases += checked(sby, default, "scrypt", [
        ("passlib scrypt at its defaults (ln=16, r=8, p=1): the right password", PASSWORD, True, passlib_scrypt.verify(PASSWORD, default)),
    ])
    cheap = passlib_scrypt.using(rounds=10, block_size=4, parallelism=2).hash(UNICODE)
    cases += checked(sby, cheap, "scrypt", [
        ("passlib scrypt, non-ASCII: the right password", UNICODE, True, passlib_scrypt.verify(UNICODE, cheap)),
        ("passlib scrypt, non-ASCII: no normalisation, so NFD is another password", UNICODE_NFKC_TWIN, False, passlib_scrypt.verify(UNICODE_NFKC_TWIN, cheap)),
    ])
    return cases, default


def better_auth(directory):
    jobs = [
        {"make": PASSWORD, "check": [PASSWORD, PASSWORD + " "]},
        {"make": UNICODE, "check": [UNICODE, UNICODE_NFKC_TWIN, UNICODE.upper()]},
        {"make": LONG, "check": [LONG, LONG[:72]]},
    ]
    # The script comes in on stdin (so `better-auth` resolves from `directory`); the jobs are
    # written into it.
    script = NODE_HASHER.replace("JOBS", json.dumps(json.dumps(jobs)))
    run = subprocess.run(["node", "--input-type=module"], input=script, cwd=directory,
                         capture_output=True, text=True, check=True)
    made = json.loads(run.stdout)
    with open(os.path.join(directory, "node_modules", "better-auth", "package.json")) as f:
        ba_version = json.load(f)["version"]
    with open(os.path.join(directory, "node_modules", "@better-auth", "utils", "package.json")) as f:
        utils_version = json.load(f)["version"]
    by = f"better-auth {ba_version} hashPassword (@better-auth/utils {utils_version}), node {platform_node()}"
    plain, uni, long = made
    cases = checked(by, plain["hash"], "scrypt", [
        ("better-auth scrypt: the right password", PASSWORD, True, plain["answers"][0]),
        ("better-auth scrypt: a wrong password", PASSWORD + " ", False, plain["answers"][1]),
    ])
    cases += checked(by, uni["hash"], "scrypt", [
        ("better-auth scrypt, non-ASCII: the same text", UNICODE, True, uni["answers"][0]),
        ("better-auth scrypt, non-ASCII: NFD and no ligature, the same after NFKC", UNICODE_NFKC_TWIN, True, uni["answers"][1]),
        ("better-auth scrypt, non-ASCII: in capitals", UNICODE.upper(), False, uni["answers"][2]),
    ])
    cases += checked(by, long["hash"], "scrypt", [
        ("better-auth scrypt, 73 bytes: itself", LONG, True, long["answers"][0]),
        ("better-auth scrypt, 73 bytes: no truncation, so 72 is another password", LONG[:72], False, long["answers"][1]),
    ])
    return cases, plain["hash"], ba_version, utils_version


def platform_node():
    return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()


def refused(bcrypt12, passlib_scrypt_default, better_auth_hash):
    too_costly, unsupported = "password_hash_too_costly", "unsupported_password_hash"
    head, salt, digest = passlib_scrypt_default.rsplit("$", 2)
    scrypt_with = lambda params: f"$scrypt${params}${salt}${digest}"
    ba_salt, ba_key = better_auth_hash.split(":")
    pbkdf2 = pbkdf2_sha256.hash(PASSWORD)
    by_hand = "by hand from a real hash above"
    return [
        case("scrypt N=2^30 (passlib's form): refused without being run", by_hand, scrypt_with("ln=30,r=8,p=1"), PASSWORD, too_costly),
        case("scrypt N=2^18, r=8: 256 MiB and then some", by_hand, scrypt_with("ln=18,r=8,p=1"), PASSWORD, too_costly),
        case("scrypt p=4096", by_hand, scrypt_with("ln=14,r=8,p=4096"), PASSWORD, too_costly),
        case("bcrypt cost 31 (a valid cost, days of work)", by_hand, "$2b$31$" + bcrypt12[7:], PASSWORD, too_costly),
        case("bcrypt cost 15, one over the limit", by_hand, "$2b$15$" + bcrypt12[7:], PASSWORD, too_costly),
        case("bcrypt cost 03, not a bcrypt cost", by_hand, "$2b$03$" + bcrypt12[7:], PASSWORD, unsupported),
        case("bcrypt $2x$ (crypt_blowfish's bug-compatible variant)", by_hand, "$2x$" + bcrypt12[4:], PASSWORD, unsupported),
        case("bcrypt cut short", by_hand, bcrypt12[:50], PASSWORD, unsupported),
        case("better-auth's key in capitals (never matches there)", by_hand, f"{ba_salt}:{ba_key.upper()}", PASSWORD, unsupported),
        case("better-auth's key cut short", by_hand, f"{ba_salt}:{ba_key[:-2]}", PASSWORD, unsupported),
        case("passlib pbkdf2-sha256, a format Latchkey does not verify", f"passlib {version('passlib')}", pbkdf2, PASSWORD, unsupported),
        case("plain text", by_hand, PASSWORD, PASSWORD, unsupported),
        case("empty", by_hand, "", PASSWORD, unsupported),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bcrypt5-python", required=True, help="a Python with bcrypt 5.x installed")
    parser.add_argument("--better-auth-dir", required=True, help="a directory where better-auth@1 is installed")
    args = parser.parse_args()
    assert bcrypt.__version__.startswith("4."), f"run with bcrypt 4.x beside passlib, not {bcrypt.__version__}"

    cases, bcrypt12 = python_bcrypt()
    more, bcrypt5_version = python_bcrypt5(args.bcrypt5_python)
    cases += more
    more, passlib_default = passlib_cases()
    cases += more
    more, ba_hash, ba_version, utils_version = better_auth(args.better_auth_dir)
    cases += more
    cases += refused(bcrypt12, passlib_default, ba_hash)

    out = {
        "description": "Password hashes made by the libraries users move in from, and what verifying them answers: true, false, or the error code for a hash that is refused without being run. Generated by generate_foreign_hashes.py; do not edit by hand.",
        "generatedWith": {
            "python": platform.python_version(),
            "bcrypt": bcrypt.__version__,
            "bcrypt5": bcrypt5_version,
            "passlib": version("passlib"),
            "node": platform_node(),
            "better-auth": ba_version,
            "@better-auth/utils": utils_version,
        },
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "foreign-hashes.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
