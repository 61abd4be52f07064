#!/usr/bin/env python3
"""Runs sdk_test.js (the official Azure Digital Twins JavaScript SDK) against a real `castor serve`
over HTTPS: a fresh data directory, admin and viewer tokens from `castor token create`, a
kernel-chosen port, the generated CA trusted through NODE_EXTRA_CA_CERTS, and the server stopped
by PID at the end. Usage: CASTOR_BIN=build/bin/castor sdk_test.py  (after scripts/bootstrap.sh,
which installs the SDK into tests/integration/sdk/node_modules)."""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from castor_harness import Server, TempData, castor  # noqa: E402

NODE = os.environ.get("NODE") if os.path.isfile(os.environ.get("NODE", "")) else shutil.which("node")


def main():
    if not os.path.isdir(os.path.join(HERE, "node_modules", "@azure", "digital-twins-core")):
        print(f"{HERE}/node_modules has no @azure/digital-twins-core: run scripts/bootstrap.sh "
              "(or `npm ci` in that folder) first", file=sys.stderr)
        return 1
    if not NODE:
        print("node is not installed: run scripts/bootstrap.sh", file=sys.stderr)
        return 1
    tmp = TempData()
    server = None
    try:
        admin = castor("token", "create", "--role", "admin", "--name", "sdk-admin", data=tmp.data).stdout.strip()
        viewer = castor("token", "create", "--role", "viewer", "--name", "sdk-viewer", data=tmp.data).stdout.strip()
        server = Server(tmp.data)
        assert server.scheme == "https", server.url
        env = {k: v for k, v in os.environ.items() if not k.startswith("NODE_TLS")}
        # Without the CA, Node must refuse the server: the trust below is what makes the SDK work.
        probe = subprocess.run(
            [NODE, "-e", "require('https').get(process.argv[1], () => process.exit(0))"
                         ".on('error', (e) => { console.log(e.code); process.exit(3); })", server.url + "healthz"],
            env=env, capture_output=True, text=True, timeout=30)
        if probe.returncode != 3:
            print(f"node trusted castor's certificate without its CA: {probe.stdout}{probe.stderr}", file=sys.stderr)
            return 1
        env.update(NODE_EXTRA_CA_CERTS=server.ca_file(), CASTOR_URL=server.url, CASTOR_ADMIN_TOKEN=admin,
                   CASTOR_VIEWER_TOKEN=viewer, CASTOR_IMPORT_DIR=os.path.join(tmp.data, "import"))
        start = time.monotonic()
        node = subprocess.run([NODE, "--test-reporter=spec", os.path.join(HERE, "sdk_test.js")],
                              cwd=HERE, env=env, timeout=240)
        print(f"sdk_test.js exited {node.returncode} after {time.monotonic() - start:.1f} s")
        if node.returncode != 0:
            print("---- castor log (last 40 lines) ----\n" + "\n".join(server.log().splitlines()[-40:]))
            return 1
        rc, _ = server.terminate()
        if rc != 0:
            print(f"castor exited {rc} on SIGTERM:\n{server.log()}", file=sys.stderr)
            return 1
        return 0
    finally:
        if server:
            server.kill()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
