#!/usr/bin/env python3
"""Runs `castor models conformance DIR --json` and fails if any DTDL version passes fewer cases
than recorded in dtdl_ratchet.json (raise the numbers there as conformance improves)."""
import json
import subprocess
import sys

castor, cases, ratchet_file = sys.argv[1:4]
out = subprocess.run([castor, "models", "conformance", cases, "--json"],
                     capture_output=True, text=True, timeout=600)
if out.returncode != 0:
    sys.exit(f"castor models conformance failed ({out.returncode}): {out.stderr}")
got = json.loads(out.stdout)
want = json.load(open(ratchet_file))
failed = False
for version, floor in sorted(want.items()):
    passed, total = got[version]["passed"], got[version]["total"]
    status = "ok" if passed >= floor else "BELOW RATCHET"
    print(f"{version}: {passed}/{total} passed (ratchet {floor}) {status}")
    failed |= passed < floor
if set(got) != {"V2", "V3", "V4"}:
    sys.exit(f"unexpected JSON keys: {sorted(got)}")
sys.exit(1 if failed else 0)
