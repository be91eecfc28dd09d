import { UsageError } from '../errors.js';

/** Commands that are planned but not built yet say so honestly instead of pretending (exit 2). */
export function notAvailable(command: string, instead: string): never {
  throw new UsageError('command.not-available', `\`iac ${command}\` is not available yet in this version`, { hint: instead });
}
