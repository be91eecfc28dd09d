import { UsageError } from '../errors.js';

/**
 * Branch and remote names come from iac.yaml and the command line and end up in git's argv.
 * Reject anything git would not accept as a ref name and anything that could read as an option.
 * (Pure version of `git check-ref-format --branch`, without spawning git.)
 */
export function assertBranchName(name: string): void {
  if (!isValidBranchName(name)) {
    throw new UsageError('git.bad-branch', `"${name}" is not a valid git branch name`, {
      hint: `git check-ref-format --branch '${name}'`,
    });
  }
}

export function isValidBranchName(name: string): boolean {
  if (name === '' || name === '@' || name.startsWith('-') || name.startsWith('/') || name.endsWith('/')) return false;
  if (name.endsWith('.') || name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  return name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'));
}

/** Remote names: the same rules as a single ref component, no leading dash. */
export function assertRemoteName(name: string): void {
  if (name.includes('/') || !isValidBranchName(name)) {
    throw new UsageError('git.bad-remote', `"${name}" is not a valid git remote name`, { hint: 'git remote -v' });
  }
}
