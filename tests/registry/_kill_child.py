"""Pushes multi-file models forever into a registry until killed (SIGKILL test child).

Each push changes ``assets/push.txt`` first: identical content would return the existing
version (content-digest idempotency) instead of publishing a new one.
"""

import os
import sys

from tfx_addons_lab.registry import open_registry

root, model, tag = sys.argv[1], sys.argv[2], sys.argv[3]
reg = open_registry(root)
print("ready", flush=True)
i = 0
while True:
    with open(os.path.join(model, "assets", "push.txt"), "w") as f:
        f.write(f"{tag}-{i}\n")
    reg.push("m", model, {"source_uri": f"{tag}-{i}"})
    reg.set_alias("m", "champion", reg.get("m", "latest").version)
    i += 1
