import { dirname } from 'node:path';
import { findConfigFile } from '../../config/find.js';
import { openRepo } from '../../git/repo.js';

/**
 * Opens the repository around iac.yaml ahead of the command — its git call runs while commander and the
 * command's modules load — so the command finds the answer waiting (openRepo remembers it per directory).
 */
export function prefetchRepo(cwd: string): void {
  try {
    openRepo(dirname(findConfigFile(cwd))).catch(() => undefined);
  } catch {
    // No iac.yaml: the command itself says so.
  }
}
