#!/bin/sh
# Rebuild agentbot/sandbox/static/vendor/smartsupp-visitor.js from the pinned npm packages in
# package-lock.json. A maintainer runs this when bumping a version and commits the output.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
node build.mjs
