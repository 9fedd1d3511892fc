import { inventoryBackups } from '../../db/backup/inventory.js';
import { copyIsGood, readManifest } from '../../db/backup/manifest.js';
import { formatDuration, parseAge } from '../../config/duration.js';
import { defineCheck, fail, pass } from '../define-check.js';

/**
 * The weekly review's backup age: the newest *verified* backup of the environment (its manifest
 * says verified, and the file is still as the manifest recorded) must be younger than
 * `params.max_age` (default 8d: a weekly backup plus a day). An older one, or none, fails: a
 * restore would lose more than the checklist accepts. Reads the backup directory only.
 */
export default defineCheck({
  id: 'backup.age',
  title: 'Newest verified backup is recent',
  needs: [],
  stages: [],
  tags: ['maintenance'],
  params: ['max_age'],
  async run({ config, now, params }) {
    const maxMs = params?.max_age === undefined ? 8 * 86_400_000 : parseAge(String(params.max_age), 'backup.age params.max_age');
    const dir = config.backupDir.value;
    const listings = await inventoryBackups(dir, { env: config.name });
    // With an off-host copy configured, the backup that counts is the one that survives losing this host.
    const offHost = config.backupCopy.value !== undefined;
    const verified = listings.filter((b) => b.state === 'verified' && (!offHost || copyIsGood(readManifest(b.manifestFile).copy))).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const take = `take one with \`routergpt backup --env ${config.name}\``;
    const data = { dir, backups: listings.length, verified: verified.length, maxAgeMs: maxMs };
    const newest = verified[0];
    if (!newest) {
      const bad = listings.filter((b) => b.state === 'bad').length;
      const what = offHost ? 'verified backup with a good off-host copy (backup.copy_command)' : 'verified backup';
      return fail(`no ${what} of ${config.name} in ${dir}${listings.length ? ` (${listings.length} there: ${listings.length - bad} not verified${offHost ? ' or not copied' : ''}, ${bad} damaged)` : ''}`, { data, hint: `Take and verify one: \`routergpt backup --env ${config.name}\`${offHost ? ', and check that its copy succeeds' : ''}.` });
    }
    const ageMs = now().getTime() - Date.parse(newest.createdAt);
    const line = `newest verified backup${offHost ? ' copied off the host' : ''} ${newest.label} from ${newest.createdAt.slice(0, 16).replace('T', ' ')} (${formatDuration(Math.max(0, ageMs))} old; limit ${formatDuration(maxMs)})`;
    if (ageMs > maxMs) return fail(line, { data: { ...data, newest: newest.file, ageMs }, hint: `A restore now would lose everything since then: ${take}, and check the job that should have.` });
    return pass(line, { data: { ...data, newest: newest.file, ageMs } });
  },
});
