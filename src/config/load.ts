import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, UsageError } from '../errors.js';
import { SECRET_NAME } from '../util/redact.js';
import { didYouMean } from '../util/suggest.js';
import { checkConfigSemantics } from './checks.js';
import { formatPath, SourceLocator, type ConfigPath } from './locate.js';
import { configSchema, type RawConfig } from './schema.js';
import { knownKeysAt } from './schema-keys.js';

export const CONFIG_FILE_NAMES = ['iac.yaml', 'iac.yml'];

export interface LoadedConfig {
  /** Absolute path of iac.yaml. */
  file: string;
  /** The project root: the directory holding iac.yaml; relative paths in it resolve from here. */
  dir: string;
  config: RawConfig;
  locator: SourceLocator;
  /** The file name as shown in messages (relative to the cwd when inside it). */
  displayFile: string;
}

export interface ConfigIssue {
  path: ConfigPath;
  message: string;
  /** Point at the key rather than its value. */
  atKey?: boolean;
  /** Point at this path instead (a missing key is shown where its parent map starts). */
  at?: ConfigPath;
}

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

export function loadConfigFile(file: string, cwd: string = process.cwd()): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError('config.unreadable', `cannot read ${file}: ${(error as Error).message}`);
  }
  const rel = relative(cwd, file);
  const displayFile = rel && !rel.startsWith('..') ? rel : file;
  return parseConfig(text, file, displayFile);
}

/** Parses and validates iac.yaml text; every problem is reported as file:line:col with its path. */
export function parseConfig(text: string, file: string, displayFile: string = file): LoadedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const messages = doc.errors.map((error) => {
      const pos = lines.linePos(error.pos[0]);
      const what = error.code === 'DUPLICATE_KEY' ? 'duplicate key' : firstLine(error.message);
      return `${displayFile}:${pos.line}:${pos.col}: YAML syntax error: ${what}`;
    });
    throw configError(messages);
  }
  const locator = new SourceLocator(doc, lines);
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const format = (issue: ConfigIssue): string => {
    const pos = locator.position(issue.at ?? issue.path, { key: issue.atKey === true });
    const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : '';
    return `${displayFile}:${pos.line}:${pos.col}: ${where}${issue.message}`;
  };

  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    throw configError(withoutShadowedMissingKeys(parsed.error.issues.flatMap((issue) => describeIssue(issue, data))).map(format));
  }
  const semantic = checkConfigSemantics(parsed.data);
  if (semantic.length > 0) throw configError(semantic.map(format));
  return { file, dir: dirname(file), config: parsed.data, locator, displayFile };
}

function configError(messages: string[]): ConfigError {
  const [first, ...rest] = messages;
  return new ConfigError('config.invalid', first ?? 'invalid configuration', {
    details: rest,
    hint: 'fix iac.yaml; `iac schema` prints the JSON Schema for editor validation',
  });
}


function describeIssue(issue: z.core.$ZodIssue, data: unknown): ConfigIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: [...path, key],
      atKey: true,
      message: SECRET_NAME.test(key)
        ? 'secrets never live in iac.yaml: set them in the environment (IAC_JENKINS_TOKEN, ${env.NAME}) or ~/.netrc'
        : `unknown key${didYouMean(key, knownKeysAt(configSchema, path))}`,
    }));
  }
  if (issue.code === 'invalid_type') {
    const actual = valueAt(data, path);
    if (actual === undefined) {
      return [{ path, at: path.slice(0, -1), atKey: true, message: `required key is missing (expected ${expectedText(issue.expected)})` }];
    }
    return [{ path, message: `expected ${expectedText(issue.expected)}, got ${describeValue(actual)}` }];
  }
  if (issue.code === 'invalid_key') {
    return [{ path, atKey: true, message: issue.issues[0]?.message ?? 'invalid key' }];
  }
  if (issue.code === 'invalid_union') {
    // The input matched one alternative's shape (e.g. a map for { ec2: ... }): report that one's problems.
    const specific = issue.errors.filter((branch) => branch.some((inner) => inner.path.length > 0));
    if (specific.length === 1) {
      return (specific[0] ?? []).flatMap((inner) => describeIssue({ ...inner, path: [...path, ...inner.path] }, data));
    }
    const actual = valueAt(data, path);
    const last = path[path.length - 1];
    if (last === 'inventory') {
      return [{ path, message: `expected a path, a list of paths, or { ec2: { tags: {...} } }, got ${describeValue(actual)}` }];
    }
    return [{ path, message: `expected a string, number or boolean, got ${describeValue(actual)}` }];
  }
  if (issue.code === 'invalid_format') {
    return [{ path, message: `expected ${issue.format === 'url' ? 'a URL such as https://ci.example.com' : `a ${issue.format}`}` }];
  }
  if (issue.code === 'invalid_value') {
    return [{ path, message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` }];
  }
  return [{ path, message: issue.message }];
}

/**
 * A typo shows up twice: "namespce: unknown key" and "namespace: required key is missing". Report
 * only the first, which names both spellings.
 */
function withoutShadowedMissingKeys(issues: ConfigIssue[]): ConfigIssue[] {
  const unknown = issues.filter((i) => i.message.startsWith('unknown key (did you mean'));
  return issues.filter((issue) => {
    if (!issue.message.startsWith('required key is missing')) return true;
    const name = String(issue.path[issue.path.length - 1]);
    const parent = formatPath(issue.path.slice(0, -1));
    return !unknown.some((u) => formatPath(u.path.slice(0, -1)) === parent && u.message.includes(`"${name}"`));
  });
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let node: unknown = data;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

function expectedText(expected: string): string {
  if (expected === 'record' || expected === 'object') return 'a map';
  if (expected === 'array') return 'a list';
  return expected === 'boolean' ? 'true or false' : `a ${expected}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).replace(/ at line \d+, column \d+:?$/, '');
}
