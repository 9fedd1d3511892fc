/**
 * The core of `routergpt rollback`. It lives in the runbook (runbook/rollback-run.ts) because
 * `watch --on-fail toggle` and the api.watch step switch the router off through the very same
 * journaled rollback run; commands do not import each other, and steps do not import commands.
 */
export { lastGoodDeployBefore, parseTiers, runRollback, TIERS, type RollbackOptions, type RollbackResult, type Tier } from '../../runbook/rollback-run.js';
