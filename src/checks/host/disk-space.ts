import { statfs } from 'node:fs/promises';
import { defineCheck, fail, pass, warn } from '../define-check.js';

/** The checklist's weekly `df -h`, for the disk that holds backups and journals. */
export default defineCheck({
  id: 'host.disk-space',
  title: 'Disk space for backups',
  needs: [],
  stages: ['pre'],
  tags: ['maintenance'],
  params: ['path', 'failPct', 'warnPct'],
  async run({ config, params }) {
    const dir = String(params?.path ?? config.stateDir.value.replace(/\/[^/]*$/, '') ?? '.');
    const stats = await statfs(dir);
    const free = stats.bavail * stats.bsize;
    const total = stats.blocks * stats.bsize;
    const pct = total > 0 ? (free / total) * 100 : 0;
    const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;
    const summary = `${gib(free)} free of ${gib(total)} (${pct.toFixed(0)}%) on the disk holding ${dir}`;
    const data = { freeBytes: free, totalBytes: total, freePct: pct };
    if (pct < Number(params?.failPct ?? 5)) return fail(summary, { data, hint: 'Free space before the next backup: old backups (backup.retention), logs.' });
    if (pct < Number(params?.warnPct ?? 15)) return warn(summary, { data, hint: 'Lower backup.retention or move backups to a larger disk.' });
    return pass(summary, { data });
  },
});
