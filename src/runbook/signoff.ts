import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { UsageError } from '../errors.js';
import type { ChecklistItem } from './checklist.js';

/**
 * The answers to a checklist's manual items, for runs without a terminal (CI):
 *
 *   signed_by: Jane Doe
 *   items:
 *     custom-gpt-configured: true
 *     privacy-compliance: { done: true, note: "policy v3 live" }
 *   signoff:
 *     deployed_by: Jane Doe
 *     approver: Sam Lee
 */
export interface SignoffFile {
  file: string;
  signedBy: string;
  items: Record<string, { done: boolean; note?: string; by?: string }>;
  signoff?: { deployedBy: string; approver: string | null };
}

export function readSignoffFile(file: string, manualItems: ChecklistItem[], needsFinal: boolean, requireApprover: boolean): SignoffFile {
  if (!existsSync(file)) throw new UsageError(`Sign-off file not found: ${file}`, 'Check the --signoff-file path (see docs/signoff.md for the format).');
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`Sign-off file ${file} is not valid YAML/JSON: ${(error as Error).message.split('\n')[0]}`, 'Fix the file (see docs/signoff.md); nothing was changed.');
  }
  const problems: string[] = [];
  const doc = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const signedBy = typeof doc.signed_by === 'string' && doc.signed_by.trim() ? doc.signed_by.trim() : undefined;
  if (!signedBy) problems.push('signed_by: who answers the manual items is required');
  const rawItems = (doc.items && typeof doc.items === 'object' ? doc.items : {}) as Record<string, unknown>;
  const wanted = new Map(manualItems.map((m) => [m.id.replace(/^manual\./, ''), m]));
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
  let signoff: SignoffFile['signoff'];
  if (needsFinal) {
    const s = (doc.signoff && typeof doc.signoff === 'object' ? doc.signoff : undefined) as Record<string, unknown> | undefined;
    const deployedBy = typeof s?.deployed_by === 'string' && s.deployed_by.trim() ? s.deployed_by.trim() : undefined;
    const approver = typeof s?.approver === 'string' && s.approver.trim() ? s.approver.trim() : null;
    if (!deployedBy) problems.push('signoff.deployed_by: required for the final sign-off');
    if (requireApprover && !approver) problems.push('signoff.approver: required on this environment');
    if (deployedBy) signoff = { deployedBy, approver };
  }
  if (problems.length > 0) {
    throw new UsageError(`Sign-off file ${file} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, 'Fix the file (see docs/signoff.md); nothing was changed.');
  }
  return { file, signedBy: signedBy!, items, ...(signoff ? { signoff } : {}) };
}
