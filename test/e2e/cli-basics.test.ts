import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runIac } from '../helpers/run-cli.js';

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };

describe('iac basics', () => {
  it('--version prints the package version', async () => {
    const result = await runIac(['--version'], { cwd: process.cwd() });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('--help lists every command, the global flags and examples', async () => {
    const result = await runIac(['--help'], { cwd: process.cwd() });
    expect(result.code).toBe(0);
    for (const command of ['up', 'promote', 'status', 'init', 'doctor', 'inventory', 'demo', 'schema']) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
    for (const flag of ['--config', '--json', '--verbose', '--yes', '--dry-run', '--no-color']) expect(result.stdout).toContain(flag);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain('iac promote develop main');
  });

  it('an unknown command is a usage error (exit 1 from commander is not used)', async () => {
    const result = await runIac(['deploy'], { cwd: process.cwd() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'deploy'");
  });

  it('`iac schema` prints a JSON Schema that knows the environment keys', async () => {
    const result = await runIac(['schema'], { cwd: process.cwd() });
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['project', 'environments', 'jenkins', 'git']));
    expect(result.stdout).toContain('"workloads"');
  });
});
