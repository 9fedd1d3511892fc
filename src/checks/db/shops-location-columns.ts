import { defineCheck, fail, pass } from '../define-check.js';
import { EXPECTED_SHOP_LOCATION_COLUMNS } from './schema-expectations.js';

export default defineCheck({
  id: 'db.shops-location-columns',
  title: 'shops has the location fields',
  needs: ['db'],
  stages: ['post'],
  async run({ db }) {
    const { rows } = await db!.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'shops'`,
    );
    const actual = new Map(rows.map((r) => [r.column_name, r.data_type]));
    const problems = Object.entries(EXPECTED_SHOP_LOCATION_COLUMNS)
      .filter(([name, type]) => actual.get(name) !== type)
      .map(([name, type]) => (actual.has(name) ? `${name} is ${actual.get(name)}, expected ${type}` : `${name} is missing`));
    if (problems.length > 0) return fail(`shops location fields wrong: ${problems.join('; ')}`, { details: problems, hint: 'Run `routergpt migrate up` (006_phase3_shop_location).' });
    return pass(`latitude, longitude, geocoded_at, geocode_source, geocode_accuracy present`);
  },
});
