import { execFileSync } from 'node:child_process';

/** True when `name` is on PATH. */
export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Tests that need a real tool (ansible-playbook, kubectl) run only where it exists — but under CI
 * (CI set) a missing tool is a failure, not a silent skip: `.ci/run` is responsible for installing it.
 * Use as: `describe.runIf(toolAvailable('kubectl'))(...)`.
 */
export function toolAvailable(name: string): boolean {
  const present = hasTool(name);
  if (!present && process.env.CI) {
    throw new Error(`${name} is required under CI but is not installed (see .ci/run)`);
  }
  return present;
}
