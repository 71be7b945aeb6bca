#!/usr/bin/env python3
"""Set an OCI bundle's command and seccomp profile, for the README's container recording.

Usage: oci-config.py CONFIG.JSON PROFILE.JSON CMD [ARG...]

CONFIG.JSON is the bundle's config.json (as `runc spec` writes it); PROFILE.JSON a seccomp
profile in the OCI `linux.seccomp` form (what `confine record --agent-profile` prints, or a
profile `confine record` wrote). The command runs without a terminal, so that its output can
be captured.
"""
import json
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    config_path, profile_path, command = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    with open(profile_path, encoding="utf-8") as f:
        profile = json.load(f)
    config["process"]["terminal"] = False
    config["process"]["args"] = command
    config["linux"]["seccomp"] = profile
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
