/**
 * `deploy.layout: releases` (issue 15, part 3; Capistrano's layout): on each host
 * `<path>/releases/<release>/` side by side, `<path>/current` the symlink the server runs from and
 * `<path>/previous` the one before. The deploy and code-rollback commands are generated here as
 * POSIX shell (run like any configured command: locally, or through the host's `via`), so the
 * rolling deploy, its gates, checkpoints and undo need nothing special:
 *
 * - deploy: each configured command runs inside `releases/$ROUTERGPT_RELEASE/` (created first,
 *   `ROUTERGPT_RELEASE_DIR` set); then `current` is switched to it atomically (the old target
 *   becomes `previous`), the restart command runs in `current`, and releases beyond
 *   `keep_releases` are removed, oldest first — never the one `current` or `previous` points to.
 * - code rollback: `current` is switched back (to `releases/$ROUTERGPT_ROLLBACK_RELEASE` when the
 *   run knows it, else to what `previous` points to) and the restart command runs: no rebuild.
 */
import type { ReleasesLayout } from './types.js';

const q = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** Set P (the app root) and R (releases/<release>) in a command; the release must be a plain name. */
function prelude(root: string, releaseVar: string): string {
  return [
    `P=${q(root)}`,
    `case "$${releaseVar}" in ''|*/*|.|..) echo "routergpt: a release directory needs a plain release name, not '$${releaseVar}' (deploy --release ID)" >&2; exit 64;; esac`,
    `R="$P/releases/$${releaseVar}"`,
  ].join('; ');
}

/** The commands a deploy runs on each host under the layout. */
export function releasesDeployCommands(layout: ReleasesLayout): string[] {
  const wrapped = layout.commands.map((c) => `${prelude(layout.path, 'ROUTERGPT_RELEASE')}; mkdir -p "$R" && cd "$R" && export ROUTERGPT_RELEASE_DIR="$R" && { ${c}; }`);
  const activate = [
    prelude(layout.path, 'ROUTERGPT_RELEASE'),
    `test -d "$R" || { echo "routergpt: $R does not exist: the deploy commands did not fill it" >&2; exit 1; }`,
    `cur=$(readlink "$P/current" 2>/dev/null || true)`,
    `if [ -n "$cur" ] && [ "$cur" != "releases/$ROUTERGPT_RELEASE" ]; then ln -sfn "$cur" "$P/previous.tmp" && mv -fT "$P/previous.tmp" "$P/previous"; fi`,
    `ln -sfn "releases/$ROUTERGPT_RELEASE" "$P/current.tmp" && mv -fT "$P/current.tmp" "$P/current"`,
    `echo "routergpt: current -> releases/$ROUTERGPT_RELEASE\${cur:+ (previous -> $cur)}"`,
  ].join('; ');
  const restart = `cd ${q(layout.path)}/current && { ${layout.restart}; }`;
  const prune = [
    `P=${q(layout.path)}`,
    `cur=$(basename "$(readlink "$P/current")")`,
    `prev=$(basename "$(readlink "$P/previous" 2>/dev/null || echo .)")`,
    `cd "$P/releases" && ls -1t | tail -n +${layout.keep + 1} | while read -r r; do if [ "$r" != "$cur" ] && [ "$r" != "$prev" ]; then rm -rf -- "$r" && echo "routergpt: removed releases/$r"; fi; done`,
  ].join('; ');
  return [...wrapped, activate, restart, prune];
}

/** The code rollback under the layout: switch `current` back, restart. */
export function releasesRollbackCommands(layout: ReleasesLayout): string[] {
  const root = q(layout.path);
  return [
    [
      `P=${root}`,
      `if [ -n "\${ROUTERGPT_ROLLBACK_RELEASE:-}" ]; then to="releases/$ROUTERGPT_ROLLBACK_RELEASE"; else to=$(readlink "$P/previous" 2>/dev/null || true); fi`,
      `[ -n "$to" ] || { echo "routergpt: no release to go back to: the run knows none and $P/previous does not exist" >&2; exit 1; }`,
      `test -d "$P/$to" || { echo "routergpt: $P/$to does not exist (removed by keep_releases, or never deployed here)" >&2; exit 1; }`,
      `cur=$(readlink "$P/current" 2>/dev/null || true)`,
      `if [ "$cur" != "$to" ]; then ln -sfn "$to" "$P/current.tmp" && mv -fT "$P/current.tmp" "$P/current"; if [ -n "$cur" ]; then ln -sfn "$cur" "$P/previous.tmp" && mv -fT "$P/previous.tmp" "$P/previous"; fi; fi`,
      `export ROUTERGPT_RELEASE="$(basename "$to")"`,
      `echo "routergpt: current -> $to"`,
      `cd "$P/current" && { ${layout.restart}; }`,
    ].join('; '),
  ];
}
