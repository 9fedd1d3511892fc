import { statfsSync } from 'node:fs';
import path from 'node:path';
import { OperationError } from '../errors.js';

/** Error codes that mean "the volume will not take this write", not "routergpt is broken". */
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

/** MiB free (to unprivileged users) on the volume holding `dir`, as text; 'unknown' when it cannot be read. */
export function freeSpace(dir: string): string {
  try {
    const s = statfsSync(dir);
    return `${((Number(s.bavail) * Number(s.bsize)) / 1_048_576).toFixed(1)} MiB`;
  } catch {
    return 'unknown';
  }
}

/**
 * True when the volume holding `dir` has not one block left for this process (root may write
 * into the reserved blocks, others may not); false when it has room or cannot be read.
 */
export function volumeFull(dir: string): boolean {
  try {
    const s = statfsSync(dir);
    return Number(process.getuid?.() === 0 ? s.bfree : s.bavail) < 1;
  } catch {
    return false;
  }
}

/** The error a write into a full volume gives, for a tool that met one and did not say so. */
export function noSpaceError(file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${file}'`), { code: 'ENOSPC', path: file });
}

/**
 * A full (or read-only) volume as the operational error it is (issue 14, A5/A13): the file, the
 * space left where it was written, and what to do. Undefined when `error` is something else.
 * `file` defaults to the path the fs error carries.
 */
export function noRoomError(error: unknown, what: string, file?: string, hint?: string): OperationError | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  if (!(code && NO_ROOM.has(code)) && !/No space left on device/i.test(text)) return undefined;
  const target = file ?? (error as NodeJS.ErrnoException).path;
  const why = code === 'EROFS' ? 'The volume is read-only' : code === 'EDQUOT' ? 'The disk quota is used up' : 'No space left on the device';
  if (!target) return new OperationError(`${why} (${text.split('\n')[0]}).`, hint ?? 'Free space on the volume routergpt writes to (its state directory, backups, reports), then run the command again.', { cause: error });
  const dir = path.dirname(target);
  return new OperationError(`${why} writing ${what} ${target} (${freeSpace(dir)} free in ${dir}).`, hint ?? `Free space in ${dir} (or point routergpt at a volume with room), then run the command again.`, { cause: error });
}
