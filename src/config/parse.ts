import { dirname } from 'node:path';
import { isCollection, isPair, isScalar, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { SECRET_NAME } from '../util/redact.js';
import { didYouMean } from '../util/suggest.js';
import { checkConfigSemantics } from './checks.js';
import type { ConfigIssue, LoadedConfig } from './load.js';
import { formatPath, SourceLocator, type ConfigPath } from './locate.js';
import { configSchema } from './schema.js';
import { knownKeysAt } from './schema-keys.js';

/**
 * The parser and validator of iac.yaml: YAML with line:column positions, the zod schema, the semantic
 * checks. Loaded only when a file is not in the validated-config cache (see load.ts): zod alone costs
 * over 100 ms of start-up.
 */

/** Nesting deeper than any real iac.yaml, and the number of map keys and list items in all. */
const MAX_DEPTH = 32;
const MAX_NODES = 20_000;

/** Parses and validates iac.yaml text; every problem is reported as file:line:col with its path. */
export function parseConfig(text: string, file: string, displayFile: string = file): LoadedConfig {
  const lines = new LineCounter();
  const deepAt = flowNestingBeyond(text, MAX_DEPTH);
  if (deepAt !== undefined) {
    const pos = lineColumn(text, deepAt);
    throw configError([`${displayFile}:${pos.line}:${pos.col}: nested more than ${MAX_DEPTH} levels deep`]);
  }
  // uniqueKeys is checked by shapeProblem in linear time (the parser's own check is quadratic).
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const messages = doc.errors.map((error) => {
      const pos = lines.linePos(error.pos[0]);
      const what = error.code === 'DUPLICATE_KEY' ? 'duplicate key' : firstLine(error.message);
      return `${displayFile}:${pos.line}:${pos.col}: YAML syntax error: ${what}`;
    });
    throw configError(messages);
  }
  const locator = new SourceLocator(doc, lines);
  const shape = shapeProblem(doc.contents);
  if (shape) throw configError([`${displayFile}:${lines.linePos(shape.offset).line}:${lines.linePos(shape.offset).col}: ${shape.message}`]);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    // e.g. "Excessive alias count indicates a resource exhaustion attack" (a YAML alias bomb).
    throw configError([`${displayFile}:1:1: ${firstLine((error as Error).message)}`]);
  }
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
  return { file, dir: dirname(file), config: parsed.data, displayFile };
}

/**
 * The offset where `[`/`{` nesting first exceeds `max`, outside quotes and comments: checked on the raw
 * text because the YAML parser recurses on flow collections (thousands of "[" exhaust its stack).
 */
function flowNestingBeyond(text: string, max: number): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote !== undefined) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) i = text.indexOf('\n', i) === -1 ? text.length : text.indexOf('\n', i);
    else if (ch === '[' || ch === '{') {
      depth += 1;
      if (depth > max) return i;
    } else if ((ch === ']' || ch === '}') && depth > 0) depth -= 1;
  }
  return undefined;
}

function lineColumn(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/** Refuses nesting and sizes no real iac.yaml has, before anything walks the tree recursively. */
function shapeProblem(root: unknown): { offset: number; message: string } | undefined {
  let nodes = 0;
  const stack: Array<{ node: unknown; depth: number }> = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    if (!isCollection(node)) continue;
    const offset = node.range?.[0] ?? 0;
    if (depth > MAX_DEPTH) return { offset, message: `nested more than ${MAX_DEPTH} levels deep` };
    nodes += node.items.length;
    if (nodes > MAX_NODES) return { offset, message: `more than ${MAX_NODES} keys and list items` };
    const keys = new Set<unknown>();
    for (const item of node.items) {
      if (!isPair(item)) {
        stack.push({ node: item, depth: depth + 1 });
        continue;
      }
      const key = isScalar(item.key) ? item.key.value : item.key;
      if (keys.has(key)) return { offset: (isScalar(item.key) ? item.key.range?.[0] : undefined) ?? offset, message: 'YAML syntax error: duplicate key' };
      keys.add(key);
      stack.push({ node: item.value, depth: depth + 1 });
    }
  }
  return undefined;
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
    return [{ path, message: `expected ${issue.format === 'url' ? 'an http(s) URL such as https://ci.example.com' : `a ${issue.format}`}` }];
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
