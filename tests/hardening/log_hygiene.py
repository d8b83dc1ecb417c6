#!/usr/bin/env python3
"""Log hygiene over a whole test run: no secret in any log line, and every line one event.

    LATCHKEY_LOG_CAPTURE=DIR cargo test -p latchkey-server --test api
    python3 tests/hardening/log_hygiene.py DIR

The server's integration suite, run with LATCHKEY_LOG_CAPTURE, writes every log line its
servers printed (in-process at debug level, and the real binary's output) to DIR/log-*.txt,
and every secret it handled (passwords, access, refresh and one-time tokens, the signing
secret) to DIR/secrets-*.txt, one JSON string per line. This checks, line by line:

- no recorded secret appears;
- nothing shaped like a JWT appears (one the tests never recorded is still a token);
- every line starts as tracing's formatter starts an event (a timestamp and a level), so
  no client text has started a line of its own; the binary's own `latchkey: …` exit
  message is the one other shape allowed;
- a JSON line (LATCHKEY_LOG_FORMAT=json; half the suite's servers write them) is one whole
  JSON object with a timestamp and a level; secrets are looked for in its raw text and in
  its decoded strings (JSON escapes a quote or a backslash in a password). At least one
  JSON line must have been checked, so the JSON format is provably covered.

Exits 1 on any finding, printing where (never the secret itself), and prints its figures.
"""

import json
import re
import sys
from pathlib import Path

EVENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\s+(TRACE|DEBUG|INFO|WARN|ERROR) ")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.")
# Token-like secrets are found as whole words of the log; anything else by substring.
WORD = re.compile(r"[A-Za-z0-9._-]+")


def json_event(line: str):
    """The line as a JSON log event (an object with a timestamp and a level), or None."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or "timestamp" not in event or "level" not in event:
        return None
    return event


def strings_in(value):
    """Every string in a decoded JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def main(directory: str) -> int:
    root = Path(directory)
    secrets: set[str] = set()
    for path in sorted(root.glob("secrets-*.txt")):
        for line in path.read_text().splitlines():
            if line:
                secrets.add(json.loads(line))
    logs = sorted(root.glob("log-*.txt"))
    if not secrets or not logs:
        print(f"log hygiene: nothing captured in {root} (secrets files: "
              f"{len(list(root.glob('secrets-*.txt')))}, log files: {len(logs)})")
        return 1
    words = {s for s in secrets if WORD.fullmatch(s)}
    phrases = sorted(secrets - words)

    findings: list[str] = []
    lines = 0
    json_lines = 0
    size = 0
    for path in logs:
        text = path.read_text(errors="replace")
        size += len(text)
        for number, line in enumerate(text.split("\n"), 1):
            if not line:
                continue
            lines += 1
            where = f"{path.name}:{number}"
            if line.startswith("{"):
                decoded = json_event(line)
                if decoded is None:
                    findings.append(f"{where}: not one JSON log event: {line[:120]!r}")
                else:
                    json_lines += 1
                    # Searched below as the raw line and as its decoded strings.
                    line = line + "\n" + "\n".join(strings_in(decoded))
            elif not EVENT.match(line) and not line.startswith("latchkey: "):
                findings.append(f"{where}: not the start of a log event: {line[:120]!r}")
            if JWT.search(line):
                findings.append(f"{where}: a JWT-shaped string")
            found = WORD.findall(line)
            # A token ending a sentence ("… abc123.") reads as the word "abc123.": its
            # dot-separated parts are candidates too.
            found += [part for word in found if "." in word for part in word.split(".")]
            leaked = words.intersection(found)
            leaked.update(p for p in phrases if p in line)
            for secret in leaked:
                findings.append(f"{where}: a recorded secret ({len(secret)} characters, "
                                f"starting {secret[:3]!r}…)")

    if json_lines == 0:
        findings.append("no JSON log line was checked (LATCHKEY_LOG_FORMAT=json not covered)")
    print(f"log hygiene: {lines} log lines ({json_lines} of them JSON) ({size / 1e6:.1f} MB) from {len(logs)} files "
          f"searched for {len(secrets)} secrets ({len(words)} tokens, {len(phrases)} "
          f"passwords and phrases) and JWT shapes; {len(findings)} findings")
    for finding in findings[:50]:
        print("  " + finding)
    return 1 if findings else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
