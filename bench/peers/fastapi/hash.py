"""The CPU time of one bcrypt hash at the app's cost (on this thread); prints JSON."""

import json
import sys
import time

import bcrypt

from app import COST

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
ms = []
for _ in range(rounds):
    start = time.thread_time()
    bcrypt.hashpw(b"velvet-Harbor-2931!", bcrypt.gensalt(COST))
    ms.append((time.thread_time() - start) * 1e3)
ms.sort()
print(json.dumps({"algorithm": "bcrypt", "params": f"cost={COST}", "ms": ms[len(ms) // 2]}))
