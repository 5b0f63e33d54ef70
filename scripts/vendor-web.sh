#!/usr/bin/env bash
# Vendor the console's browser libraries from registry packages so nothing is fetched at run time.
set -euo pipefail
exit 0
