import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

/**
 * Check, before any work, that a report file can be written where it was asked: its directory
 * exists and is writable, and the path is not a directory. The report is then written to a temp
 * file beside it and renamed (writeFileAtomic), so a failure leaves nothing behind. Returns the
 * absolute path.
 */
export function verifyReportTarget(file: string, flag: string, cwd = '.'): string {
  const target = path.resolve(cwd, file);
  const dir = path.dirname(target);
  const stat = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return undefined;
    }
  };
  const dirStat = stat(dir);
  if (!dirStat) throw new UsageError(`Cannot write ${flag} ${file}: the directory ${dir} does not exist.`, `Create it first (mkdir -p ${dir}) or pass a path in an existing directory.`);
  if (!dirStat.isDirectory()) throw new UsageError(`Cannot write ${flag} ${file}: ${dir} is not a directory.`, 'Pass a path inside a directory.');
  if (stat(target)?.isDirectory()) throw new UsageError(`Cannot write ${flag} ${file}: it is a directory.`, `Pass a file name, e.g. ${path.join(file, 'report.html')}.`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`Cannot write ${flag} ${file}: no permission to write in ${dir}.`, 'Pass a path in a directory you can write to, or fix its permissions.');
  }
  return target;
}

const WRITE_ERRORS: Record<string, string> = { EACCES: 'permission denied', EPERM: 'permission denied', EROFS: 'the file system is read-only', ENOSPC: 'no space left on the device', EDQUOT: 'the disk quota is exceeded' };

/** A write that failed anyway (a read-only or special file system, a full disk) as the same usage error. */
export function reportWriteError(file: string, flag: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = (code && WRITE_ERRORS[code]) ?? `the file system refused it (${code ?? (error as Error).message})`;
  return new UsageError(`Cannot write ${flag} ${file}: ${why}.`, 'Pass a path in a directory you can write to (nothing was written).');
}
