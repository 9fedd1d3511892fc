import { parseDuration } from '../../config/duration.js';
import { ConfigError } from '../../errors.js';

/** Typed reads of a step's checklist parameters, with errors naming the step and the parameter. */
export function stringParam(stepId: string, params: Record<string, unknown>, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ConfigError(`Step ${stepId}: parameter "${name}" must be a string (got ${JSON.stringify(value)}).`, 'Fix the step\'s parameters in the checklist.');
  return value;
}

export function numberParam(stepId: string, params: Record<string, unknown>, name: string): number | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new ConfigError(`Step ${stepId}: parameter "${name}" must be a whole number ≥ 1 (got ${JSON.stringify(value)}).`, 'Fix the step\'s parameters in the checklist.');
  return value;
}

export function booleanParam(stepId: string, params: Record<string, unknown>, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ConfigError(`Step ${stepId}: parameter "${name}" must be true or false (got ${JSON.stringify(value)}).`, 'Fix the step\'s parameters in the checklist.');
  return value;
}

export function stringListParam(stepId: string, params: Record<string, unknown>, name: string): string[] | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ConfigError(`Step ${stepId}: parameter "${name}" must be a list of strings (got ${JSON.stringify(value)}).`, 'Fix the step\'s parameters in the checklist.');
  return value as string[];
}

export function numberListParam(stepId: string, params: Record<string, unknown>, name: string): number[] | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)))) throw new ConfigError(`Step ${stepId}: parameter "${name}" must be a list of ids (got ${JSON.stringify(value)}).`, 'Fix the step\'s parameters in the checklist.');
  return value.map(Number);
}

/** A duration parameter (`30s`, `5m`: config/duration.ts), in milliseconds. */
export function durationParam(stepId: string, params: Record<string, unknown>, name: string): number | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ConfigError(`Step ${stepId}: parameter "${name}" must be a duration such as 30s or 5m (got ${JSON.stringify(value)}).`, 'Fix the step\'s parameters in the checklist.');
  try {
    return parseDuration(value, `step ${stepId} parameter "${name}"`);
  } catch (error) {
    throw new ConfigError((error as Error).message, 'Fix the step\'s parameters in the checklist.');
  }
}
