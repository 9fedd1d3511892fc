/**
 * The fleet acts as one (issue 15): every `deploy.hosts` entry with a `url` is asked on its own
 * `/health` (bypassing the load balancer) — each must answer healthy, all on the same release, and
 * that release the one the last succeeded deploy recorded (when one did). Read-only: one GET per
 * host, at once. A mix of releases while a deploy is still running is a warning, not a failure.
 */
import { defineCheck, fail, pass, skip, warn } from '../define-check.js';
import { readHealth } from '../../steps/code/host-gate.js';
import { RunRepository } from '../../runbook/runs.js';
import type { RunRecord } from '../../runbook/journal.js';

/** The newest deploy that succeeded and whose code no succeeded rollback undid since. */
function lastGoodDeploy(runs: RunRecord[]): RunRecord | undefined {
  const undone = new Set(runs.filter((r) => r.kind === 'rollback' && r.status === 'succeeded' && r.tiers?.includes('code') && r.target).map((r) => r.target));
  return runs.filter((r) => r.kind === 'deploy' && r.status === 'succeeded' && !undone.has(r.id)).sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
}

export default defineCheck({
  id: 'api.fleet-consistent',
  title: 'Every host answers /health, all on the same release',
  // No needs: the hosts come from the configuration; the journal (files, and the table when a database is open) is optional.
  needs: [],
  stages: ['pre', 'post'],
  tags: ['fleet'],
  async run(deps) {
    const all = deps.config.deploy.value.hosts;
    const hosts = all.filter((h): h is typeof h & { url: string } => Boolean(h.url));
    if (hosts.length === 0) {
      return skip(all.length === 0 ? 'no deploy.hosts configured (a single server: api.health covers it)' : `no deploy.hosts entry has a url (${all.map((h) => h.name).join(', ')}): give each host its own base URL to check it`);
    }
    const repo = new RunRepository(deps.config, deps.db, false);
    const runs = await repo.list(200).catch(() => [] as RunRecord[]);
    const good = lastGoodDeploy(runs);
    const expected = good?.release;
    const latest = runs.find((r) => r.kind === 'deploy');
    const deploying = latest !== undefined && latest !== good && (await repo.isLive(latest).catch(() => false));

    const answers = await Promise.all(hosts.map(async (h) => ({ host: h, health: await readHealth(h.url, deps.syntheticKey, 3000) })));
    const details = answers.map(({ host, health }) => `${host.name} (${host.url}): ${health.said}`);
    const withoutUrl = all.filter((h) => !h.url).map((h) => h.name);
    if (withoutUrl.length > 0) details.push(`not asked (no url): ${withoutUrl.join(', ')}`);
    if (expected) details.push(`expected release: ${expected} (deploy ${good!.id}, the last that succeeded)`);
    const data = { hosts: answers.map(({ host, health }) => ({ name: host.name, url: host.url, healthy: health.healthy, release: health.version ?? null })), expected: expected ?? null };

    const down = answers.filter((a) => !a.health.healthy);
    if (down.length > 0) {
      return fail(`${down.map((a) => a.host.name).join(', ')} ${down.length === 1 ? 'does' : 'do'} not answer healthy on /health (${down.map((a) => `${a.host.name}: ${a.health.said}`).join('; ')})`, {
        details,
        data,
        hint: 'Look at the server on that host (its logs, `routergpt status` for every host); take it out of the load balancer until it answers.',
      });
    }
    const silent = answers.filter((a) => !a.health.version);
    if (silent.length > 0) {
      return fail(`${silent.map((a) => a.host.name).join(', ')} report${silent.length === 1 ? 's' : ''} no release on /health: which code ${silent.length === 1 ? 'it runs' : 'they run'} is unknown`, {
        details,
        data,
        hint: 'Start the server with ROUTERGPT_RELEASE set (its commands: `ROUTERGPT_RELEASE="$ROUTERGPT_RELEASE" pm2 restart routergpt --update-env`).',
      });
    }
    const releases = [...new Set(answers.map((a) => a.health.version!))];
    const on = (release: string) => answers.filter((a) => a.health.version === release).map((a) => a.host.name).join(', ');
    const mix = releases.map((r) => `${r} on ${on(r)}`).join('; ');
    if (deploying && (releases.length > 1 || (expected && releases[0] !== expected))) {
      return warn(`deploy ${latest.id} is running: the hosts are between releases (${mix})`, { details, data, hint: 'Rerun once the deploy has finished (`routergpt status`).' });
    }
    if (releases.length > 1) {
      return fail(`the hosts run different releases: ${mix}${expected ? ` (the last deploy that succeeded shipped ${expected})` : ''}`, {
        details,
        data,
        hint: expected ? `Deploy ${expected} to the others (\`routergpt deploy --release ${expected}\`), or roll back (\`routergpt rollback --tier code\`).` : 'Deploy one release to every host (`routergpt deploy --release ID`).',
      });
    }
    const release = releases[0]!;
    if (expected && release !== expected) {
      return fail(`every host runs ${release}, an unknown release: the last deploy that succeeded (${good!.id}) shipped ${expected}`, {
        details,
        data,
        hint: `Something outside routergpt changed the hosts: deploy ${expected} again (\`routergpt deploy --release ${expected}\`), or deploy ${release} through routergpt so it is recorded.`,
      });
    }
    return pass(`${hosts.length} host${hosts.length === 1 ? '' : 's'} healthy, all on ${release}${expected ? ' (the last deploy that succeeded)' : ' (no deploy recorded a release to compare with)'}`, { details, data });
  },
});
