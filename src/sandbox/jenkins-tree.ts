/**
 * Jenkins' `tree=` query parameter (stapler `NamedPathPruner`):
 * `list := node (',' node)*`, `node := NAME ('[' list ']')? ('{' range '}')?`, `range := M,N | M, | ,N | N`.
 * `*` matches any property; unknown names are ignored; `_class` is always kept.
 */

export interface TreeNode {
  name: string;
  children: TreeNode[] | undefined;
  range: [number, number] | undefined;
}

export class TreeSyntaxError extends Error {}

export function parseTree(spec: string): TreeNode[] {
  let pos = 0;
  const peek = (): string | undefined => spec[pos];
  const list = (): TreeNode[] => {
    const nodes = [node()];
    while (peek() === ',') {
      pos++;
      nodes.push(node());
    }
    return nodes;
  };
  const node = (): TreeNode => {
    const start = pos;
    while (pos < spec.length && !'[]{},'.includes(spec[pos] as string)) pos++;
    const name = spec.slice(start, pos).trim();
    if (name === '') throw new TreeSyntaxError(`expected a name at ${start} in tree=${spec}`);
    let children: TreeNode[] | undefined;
    let range: [number, number] | undefined;
    if (peek() === '[') {
      pos++;
      children = list();
      if (peek() !== ']') throw new TreeSyntaxError(`expected ] at ${pos} in tree=${spec}`);
      pos++;
    }
    if (peek() === '{') {
      const close = spec.indexOf('}', pos);
      if (close < 0) throw new TreeSyntaxError(`expected } in tree=${spec}`);
      range = parseRange(spec.slice(pos + 1, close));
      pos = close + 1;
    }
    return { name, children, range };
  };
  const nodes = list();
  if (pos !== spec.length) throw new TreeSyntaxError(`unexpected ${spec[pos]} at ${pos} in tree=${spec}`);
  return nodes;
}

function parseRange(text: string): [number, number] {
  const comma = text.indexOf(',');
  if (comma < 0) {
    const n = Number(text);
    return [n, n + 1];
  }
  const from = text.slice(0, comma).trim();
  const to = text.slice(comma + 1).trim();
  return [from === '' ? 0 : Number(from), to === '' ? Number.POSITIVE_INFINITY : Number(to)];
}

type JsonValue = unknown;

function pruneValue(value: JsonValue, node: TreeNode): JsonValue {
  if (Array.isArray(value)) {
    const sliced = node.range ? value.slice(node.range[0], node.range[1]) : value;
    return sliced.map((element) => pruneElement(element, node.children));
  }
  return pruneElement(value, node.children);
}

function pruneElement(value: JsonValue, children: TreeNode[] | undefined): JsonValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((element) => pruneElement(element, children));
  return prune(value as Record<string, unknown>, children ?? []);
}

/** Keeps only the properties named by `nodes` (recursively); `_class` survives pruning. */
export function prune(object: Record<string, unknown>, nodes: TreeNode[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if ('_class' in object) out._class = object._class;
  for (const node of nodes) {
    const keys = node.name === '*' ? Object.keys(object) : [node.name];
    for (const key of keys) {
      if (!(key in object) || key === '_class') continue;
      out[key] = pruneValue(object[key], node);
    }
  }
  return out;
}
