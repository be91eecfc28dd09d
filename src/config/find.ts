import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export const CONFIG_FILE_NAMES = ['iac.yaml', 'iac.yml'];

/** Finds iac.yaml: `--config` when given, else walking up from `cwd`. */
export function findConfigFile(cwd: string, explicit?: string): string {
  if (explicit) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file)) {
      throw new UsageError('config.missing', `config file not found: ${explicit}`, { hint: 'check --config, or run `iac init`' });
    }
    return file;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const name of CONFIG_FILE_NAMES) {
      const file = join(dir, name);
      if (existsSync(file)) return file;
    }
    if (dirname(dir) === dir) break;
  }
  throw new UsageError('config.missing', `no iac.yaml found in ${cwd} or any parent directory`, {
    hint: 'run `iac init` to create one, or pass --config <file>',
  });
}
