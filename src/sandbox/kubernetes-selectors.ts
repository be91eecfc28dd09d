/** Label and field selectors as the API server parses them (the subset clients actually send). */

type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type LabelSelector = LabelRequirement[];

export class SelectorError extends Error {}

/** Splits on commas that are not inside `in (a,b)` parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim() !== '') terms.push(current.trim());
  return terms;
}

export function parseLabelSelector(text: string | null): LabelSelector {
  if (text === null || text.trim() === '') return [];
  return splitTerms(text).map((term): LabelRequirement => {
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (set) {
      const values = (set[3] as string).split(',').map((value) => value.trim());
      return { op: set[2] === 'in' ? 'in' : 'notin', key: set[1] as string, values };
    }
    const equality = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (equality) {
      return { op: equality[2] === '!=' ? 'neq' : 'eq', key: equality[1] as string, value: equality[3] as string };
    }
    if (/^![^=!\s]+$/.test(term)) return { op: 'notexists', key: term.slice(1) };
    if (/^[^=!\s()]+$/.test(term)) return { op: 'exists', key: term };
    throw new SelectorError(`unable to parse requirement: ${term}`);
  });
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  return selector.every((requirement) => {
    const value = have[requirement.key];
    switch (requirement.op) {
      case 'eq':
        return value === requirement.value;
      case 'neq':
        return value !== requirement.value;
      case 'in':
        return value !== undefined && requirement.values.includes(value);
      case 'notin':
        return value === undefined || !requirement.values.includes(value);
      case 'exists':
        return value !== undefined;
      case 'notexists':
        return value === undefined;
    }
  });
}

export interface FieldRequirement {
  path: string;
  value: string;
  negate: boolean;
}
export type FieldSelector = FieldRequirement[];

/** Field paths the sandbox supports per resource (the real server rejects others with 400). */
const FIELDS_BY_RESOURCE: Record<string, string[]> = {
  events: ['involvedObject.kind', 'involvedObject.name', 'involvedObject.namespace', 'involvedObject.uid', 'reason', 'type'],
  pods: ['spec.nodeName', 'status.phase'],
};

export function parseFieldSelector(text: string | null, resource: string): FieldSelector {
  if (text === null || text.trim() === '') return [];
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(FIELDS_BY_RESOURCE[resource] ?? [])]);
  return text.split(',').map((term) => {
    const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(term.trim());
    if (!match) throw new SelectorError(`invalid selector: '${term}'; can't understand '${term}'`);
    const path = match[1] as string;
    if (!allowed.has(path)) throw new SelectorError(`field label not supported: ${path}`);
    return { path, value: match[3] as string, negate: match[2] === '!=' };
  });
}

function fieldValue(object: unknown, path: string): string {
  let current: unknown = object;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return '';
    current = (current as Record<string, unknown>)[part];
  }
  return current === undefined || current === null ? '' : String(current);
}

export function matchesFields(selector: FieldSelector, object: unknown): boolean {
  return selector.every((requirement) => (fieldValue(object, requirement.path) === requirement.value) !== requirement.negate);
}
