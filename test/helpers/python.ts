import { execFileSync } from 'node:child_process';

/**
 * A python3 that can `import kubernetes` (the official Python client; Debian: python3-kubernetes),
 * or undefined. Under CI its absence is a failure, not a skip: `.ci/run` installs it.
 */
export function pythonWithKubernetes(): string | undefined {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(candidate, ['-c', 'import kubernetes'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // next candidate
    }
  }
  if (process.env.CI) throw new Error('python3 with the kubernetes module is required under CI but is missing (see .ci/run)');
  return undefined;
}
