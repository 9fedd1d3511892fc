import path from 'node:path';
import { CADENCES, type Cadence } from '../../runbook/cadence.js';

/**
 * `routergpt maintain schedule`: what runs each maintenance cadence of an environment — crontab
 * lines, or a systemd service and timer per cadence. Times are spread over the night (03:15,
 * 03:30, 03:45 local time) so the three never overlap on the 1st of a month that is a Monday;
 * each run writes a JUnit report next to the journals for a dashboard to pick up.
 */
export interface ScheduleOptions {
  env: string;
  /** Where routergpt.config.yaml and .routergpt/ are: the jobs run there. */
  cwd: string;
  /** The routergpt executable (bin/routergpt.js) and the node that runs it: absolute, as cron has no PATH worth the name. */
  bin: string;
  node: string;
  format: 'cron' | 'systemd';
}

const CRON: Record<Cadence, { when: string; calendar: string }> = {
  daily: { when: '15 3 * * *', calendar: '*-*-* 03:15:00' },
  weekly: { when: '30 3 * * 1', calendar: 'Mon *-*-* 03:30:00' },
  monthly: { when: '45 3 1 * *', calendar: '*-*-01 03:45:00' },
};

const quote = (s: string) => (/^[\w./@:=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function command(o: ScheduleOptions, cadence: Cadence): string {
  const report = path.join('.routergpt', 'reports', o.env, `maintain-${cadence}.xml`);
  const signoff = cadence === 'monthly' ? ` --signoff-file ${quote(path.join('.routergpt', `monthly-signoff-${o.env}.yaml`))}` : '';
  return `${quote(o.node)} ${quote(path.resolve(o.bin))} maintain ${cadence} --env ${quote(o.env)} --reporter junit=${quote(report)}${signoff}`;
}

export function maintenanceSchedule(o: ScheduleOptions): string {
  const monthlyNote = `the monthly run has a manual item (the documentation review): answer it in .routergpt/monthly-signoff-${o.env}.yaml (docs/signoff.md) or run it by hand`;
  if (o.format === 'cron') {
    return [
      `# routergpt maintenance of ${o.env} — add with \`crontab -e\`; the environment (DATABASE_URL, …) comes from ${path.join(o.cwd, '.env')} or the crontab.`,
      `# A failed finding exits 1 (cron mails the output); ${monthlyNote}.`,
      ...CADENCES.map((c) => `${CRON[c].when}  cd ${quote(o.cwd)} && ${command(o, c)}`),
      '',
    ].join('\n');
  }
  const units = CADENCES.flatMap((c) => {
    const name = `routergpt-maintain-${o.env}-${c}`;
    return [
      `# /etc/systemd/system/${name}.service`,
      '[Unit]',
      `Description=routergpt ${c} maintenance of ${o.env}`,
      'After=network-online.target',
      '',
      '[Service]',
      'Type=oneshot',
      `WorkingDirectory=${o.cwd}`,
      `EnvironmentFile=-${path.join(o.cwd, '.env')}`,
      `ExecStart=${command(o, c)}`,
      '',
      `# /etc/systemd/system/${name}.timer`,
      '[Unit]',
      `Description=routergpt ${c} maintenance of ${o.env}`,
      '',
      '[Timer]',
      `OnCalendar=${CRON[c].calendar}`,
      'Persistent=true',
      'RandomizedDelaySec=5m',
      '',
      '[Install]',
      'WantedBy=timers.target',
      '',
    ];
  });
  return [`# routergpt maintenance of ${o.env}: a service and a timer per cadence; then \`systemctl daemon-reload && systemctl enable --now ${CADENCES.map((c) => `routergpt-maintain-${o.env}-${c}.timer`).join(' ')}\`.`, `# ${monthlyNote}.`, '', ...units].join('\n');
}
