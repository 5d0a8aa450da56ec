#!/usr/bin/env bash
# Reverts the fix of defect N (1-5) in a scratch worktree of HEAD and runs the simulation there
# until it finds the first failing seed: bash libs/revocation-sim/mutants/run.sh N [simulate options]
set -euo pipefail
n="${1:?defect number 1-5}"
shift
root="$(git rev-parse --show-toplevel)"
tree="$(mktemp -d /tmp/sim-mutant-"$n"-XXXX)"
git -C "$root" worktree add --quiet --detach "$tree" HEAD
trap 'git -C "$root" worktree remove --force "$tree"' EXIT
git -C "$tree" apply "$root/libs/revocation-sim/mutants/defect-$n.patch"
ln -s "$root/node_modules" "$tree/node_modules"
(cd "$tree" && npx tsc -p tsconfig.build.json && npx tsc-alias -p tsconfig.build.json)
(cd "$tree" && node dist/libs/revocation-sim/src/main.js --stop-on-failure "$@")
