/**
 * Run by `npm run build` after tsc: writes `iac --help` (commander's own text, 80 columns) to
 * dist/help.txt, so the CLI can answer `--help` without loading commander (see cli.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Commander from 'commander';
import { helpText } from './program.js';

const commander = createRequire(import.meta.url)('commander') as typeof Commander;
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
writeFileSync(new URL('./help.txt', import.meta.url), helpText(commander, version));
