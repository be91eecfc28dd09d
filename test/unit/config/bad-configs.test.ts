import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { ConfigError, exitCodeOf } from '../../../src/errors.js';

const dir = join(import.meta.dirname, '../../fixtures/config/bad');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

/** Each bad file starts with `# expect: <line>:<col>: <message prefix>`. */
function expectation(text: string): { location: string; message: string } {
  const match = /^# expect: (\d+:\d+): (.*)$/m.exec(text);
  if (!match) throw new Error('fixture has no "# expect:" line');
  return { location: match[1] as string, message: match[2] as string };
}

describe('bad iac.yaml corpus', () => {
  it('has at least 20 cases', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)('%s fails with exit 2 at the expected line:column', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const { location, message } = expectation(text);
    let caught: unknown;
    try {
      parseConfig(text, join(dir, file), file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(exitCodeOf(caught)).toBe(2);
    expect((caught as Error).message).toContain(`${file}:${location}: ${message}`);
  });
});
