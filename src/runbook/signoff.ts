import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type YAMLModule from 'yaml';
import { UsageError } from '../errors.js';
import type { ChecklistItem } from './checklist.js';
import { identityProblem, normaliseIdentity, type Identity } from './identity.js';

/**
 * The answers to a checklist's manual items and approvals, for runs without a terminal (CI):
 *
 *   signed_by: jane@example.com      # optional: who answers the manual items (default: the deployer)
 *   items:
 *     custom-gpt-configured: true
 *     privacy-compliance: { done: true, note: "policy v3 live" }
 *   approvals:                       # the checklist's approval items: people other than the deployer
 *     - by: sam@example.com
 *   signoff:
 *     deployed_by: jane@example.com  # optional; when given it must be the deployer's identity
 */
export interface SignoffFile {
  file: string;
  signedBy: string;
  items: Record<string, { done: boolean; note?: string; by?: string }>;
  approvals: Array<{ by: string; note?: string }>;
  signoff?: { deployedBy: string };
  /** When the file was read: an answer about something that ran later was given before it (pre-answered). */
  readAt: string;
}

export interface SignoffExpectations {
  manualItems: ChecklistItem[];
  needsFinal: boolean;
  /** The approval items of the checklist (approvals are refused when it has none). */
  approvalItems: ChecklistItem[];
  /** Who is deploying: an approval by them is refused unless the environment allows self-approval. */
  deployer: Identity;
  env: string;
  allowSelfApproval: boolean;
}

type Rule = (doc: Record<string, unknown>, expect: SignoffExpectations, problems: string[]) => void;

/** Rule: `approvals` is a list of distinct people, none of them the deployer (unless allowed). */
const approvalRules: Rule = (doc, expect, problems) => {
  if (doc.approvals === undefined) return;
  if (!Array.isArray(doc.approvals)) {
    problems.push('approvals: expected a list, e.g. `approvals: [{ by: sam@example.com }]`');
    return;
  }
  if (expect.approvalItems.length === 0) problems.push('approvals: this checklist has no approval item to answer (remove them, or add `- approval: release` to the checklist)');
  const seen = new Set<string>();
  for (const [i, raw] of doc.approvals.entries()) {
    const by = raw && typeof raw === 'object' ? (raw as { by?: unknown }).by : undefined;
    if (typeof by !== 'string') {
      problems.push(`approvals[${i}]: expected { by: ID }, the approver's e-mail or login`);
      continue;
    }
    const problem = identityProblem(by);
    if (problem) {
      problems.push(`approvals[${i}].by: not an identity (${problem})`);
      continue;
    }
    const id = normaliseIdentity(by);
    if (id === expect.deployer.id && !expect.allowSelfApproval) problems.push(`approvals[${i}].by: ${id} is the deployer (${expect.deployer.origin}); on ${expect.env} the deployer cannot approve their own deploy — ask another person (approvals.allow_self_approval is false)`);
    if (seen.has(id)) problems.push(`approvals[${i}].by: ${id} approves twice (each approval must be a different person)`);
    seen.add(id);
  }
};

export function readSignoffFile(file: string, expect: SignoffExpectations): SignoffFile {
  if (!existsSync(file)) throw new UsageError(`Sign-off file not found: ${file}`, 'Check the --signoff-file path (see docs/signoff.md for the format).');
  let raw: unknown;
  try {
    // Required here: only a run given --signoff-file reads YAML (issue 16: yaml is 72 modules).
    const YAML = createRequire(import.meta.url)('yaml') as typeof YAMLModule;
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`Sign-off file ${file} is not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`, 'Fix the file (see docs/signoff.md); nothing was changed.');
  }
  const problems: string[] = [];
  const doc = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  let signedBy = expect.deployer.id;
  if (doc.signed_by !== undefined) {
    if (typeof doc.signed_by !== 'string' || identityProblem(doc.signed_by)) problems.push('signed_by: who answers the manual items, an e-mail or login on one line (or leave it out: the deployer)');
    else signedBy = doc.signed_by.trim();
  }
  const rawItems = (doc.items && typeof doc.items === 'object' ? doc.items : {}) as Record<string, unknown>;
  const wanted = new Map(expect.manualItems.map((m) => [m.id.replace(/^manual\./, ''), m]));
  const items: SignoffFile['items'] = {};
  for (const [key, value] of Object.entries(rawItems)) {
    if (!wanted.has(key)) {
      problems.push(`items.${key}: not a manual item of this checklist (known: ${[...wanted.keys()].join(', ') || 'none'})`);
      continue;
    }
    if (typeof value === 'boolean') items[key] = { done: value };
    else if (value && typeof value === 'object' && typeof (value as { done?: unknown }).done === 'boolean') {
      const v = value as { done: boolean; note?: unknown; by?: unknown };
      items[key] = { done: v.done, ...(typeof v.note === 'string' ? { note: v.note } : {}), ...(typeof v.by === 'string' ? { by: v.by } : {}) };
    } else problems.push(`items.${key}: expected true/false or { done: true, note: "…" }`);
  }
  for (const key of wanted.keys()) if (!(key in rawItems)) problems.push(`items.${key}: missing (“${wanted.get(key)!.title}”)`);
  approvalRules(doc, expect, problems);
  const approvals = Array.isArray(doc.approvals) ? doc.approvals.flatMap((a) => (a && typeof (a as { by?: unknown }).by === 'string' ? [{ by: normaliseIdentity((a as { by: string }).by), ...(typeof (a as { note?: unknown }).note === 'string' ? { note: (a as { note: string }).note } : {}) }] : [])) : [];
  let signoff: SignoffFile['signoff'];
  const s = (doc.signoff && typeof doc.signoff === 'object' ? doc.signoff : undefined) as Record<string, unknown> | undefined;
  // The approver of the final sign-off doubled as an approval after the fact: approvals are approval items now.
  if (s && 'approver' in s) problems.push('signoff.approver: no longer accepted — an approval is given before the change, by an approval item: write `approvals: [{ by: ID }]` at the top level (docs/signoff.md#approvals)');
  if (expect.needsFinal) {
    const given = typeof s?.deployed_by === 'string' ? s.deployed_by.trim() : undefined;
    if (given !== undefined && normaliseIdentity(given) !== expect.deployer.id) {
      problems.push(`signoff.deployed_by: ${given} is not who is deploying (${expect.deployer.id}, from ${expect.deployer.origin}) — pass --as ${given}, or remove deployed_by (the sign-off records the deployer)`);
    }
    signoff = { deployedBy: expect.deployer.id };
  }
  if (problems.length > 0) {
    throw new UsageError(`Sign-off file ${file} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, 'Fix the file (see docs/signoff.md); nothing was changed.');
  }
  return { file, signedBy, items, approvals, ...(signoff ? { signoff } : {}), readAt: new Date().toISOString() };
}
