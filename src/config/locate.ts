import type { Document, LineCounter, Node as YamlNode } from 'yaml';
import { isMap, isPair, isScalar, isSeq } from 'yaml';

export type ConfigPath = ReadonlyArray<string | number>;

export interface SourcePosition {
  line: number;
  col: number;
}

/**
 * Maps a path in the parsed config back to a line and column in iac.yaml, so every error can say
 * where it is. `key: true` points at a map key instead of its value (unknown keys, duplicates).
 */
export class SourceLocator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  position(path: ConfigPath, options: { key?: boolean } = {}): SourcePosition {
    let node: unknown = this.doc.contents;
    let best = this.offsetOf(node) ?? 0;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        if (last && options.key) {
          best = this.offsetOf(pair.key) ?? best;
          break;
        }
        node = pair.value;
        best = this.offsetOf(node) ?? this.offsetOf(pair.key) ?? best;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        best = this.offsetOf(node) ?? best;
      } else {
        break;
      }
    }
    const { line, col } = this.lines.linePos(best);
    return { line, col };
  }

  private offsetOf(node: unknown): number | undefined {
    const range = (node as YamlNode | undefined)?.range;
    return range ? range[0] : undefined;
  }
}

export function formatPath(path: ConfigPath): string {
  return path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : String(segment))).join('.').replace(/\.\[/g, '[');
}
