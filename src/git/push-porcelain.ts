/**
 * `git push --porcelain` reports one line per ref: `<flag>\t<from>:<to>\t<summary>`, where flag is
 * ' ' fast-forward, '+' forced, '-' deleted, '*' new, '!' rejected, '=' up to date.
 */
export interface PushedRef {
  flag: string;
  from: string;
  to: string;
  summary: string;
  /** For rejections: git's reason, e.g. "non-fast-forward", "fetch first", "pre-receive hook declined". */
  reason: string | undefined;
}

export function parsePushPorcelain(stdout: string): PushedRef[] {
  const refs: PushedRef[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^([ +\-*!=])\t([^:\t]*):([^\t]+)\t(.*)$/.exec(line);
    if (!match) continue;
    const [, flag = '', from = '', to = '', summary = ''] = match;
    const reason = /\(([^)]*)\)\s*$/.exec(summary)?.[1];
    refs.push({ flag, from, to, summary, reason });
  }
  return refs;
}

/** Rejections that mean "the remote has commits you lack" rather than a policy refusal. */
export function isNonFastForward(ref: PushedRef): boolean {
  return ref.flag === '!' && /non-fast-forward|fetch first|stale info/.test(ref.summary);
}
