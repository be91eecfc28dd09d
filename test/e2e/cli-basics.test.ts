import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Commander from 'commander';
import { describe, expect, it } from 'vitest';
import { helpText, helpWidth } from '../../src/program.js';
import { IAC_BIN, runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

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

  it('--help is answered from the text the build wrote, which is commander\'s own help of the program', async () => {
    // The build writes it (npm run build); the CLI prints it without loading commander.
    expect(existsSync(join(import.meta.dirname, '../../dist/help.txt'))).toBe(true);
    const commander = createRequire(import.meta.url)('commander') as typeof Commander;
    const result = await runIac(['--help'], { cwd: process.cwd() });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(helpText(commander, pkg.version));
    expect((await runIac(['-h'], { cwd: process.cwd() })).stdout).toBe(result.stdout);
  });

  it.runIf(toolAvailable('script'))('on a 200-column terminal commander\'s own help is the written text, line for line', async () => {
    const written = readFileSync(join(import.meta.dirname, '../../dist/help.txt'), 'utf8');
    // Two flags: not the one-flag case help.txt answers, so commander itself prints the help.
    const command = `stty cols 200 rows 50; ${process.execPath} ${IAC_BIN} --no-color --help`;
    const screen = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, TERM: 'xterm-256color' }, timeout: 30_000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
    });
    expect(screen.replace(/\r\n/g, '\n')).toBe(written);
  });

  it('help is wrapped at the terminal\'s width up to 80 columns, so the written text fits every terminal it is printed on', () => {
    expect(helpWidth({ isTTY: false })).toBe(80);
    expect(helpWidth({ isTTY: true, columns: 200 })).toBe(80);
    expect(helpWidth({ isTTY: true, columns: 60 })).toBe(60);
    expect(helpWidth({ isTTY: true, columns: 0 })).toBe(80);
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
