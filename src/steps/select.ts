import { UsageError } from '../errors.js';
import { STEP_IDS, type StepId } from '../pipeline/types.js';
import { didYouMean } from '../util/suggest.js';

/** `--only a,b` / `--skip c`: which steps run. Unknown names are a usage error, not silently ignored. */
export function selectSteps(only: string | undefined, skip: string | undefined): Set<StepId> {
  const parse = (flag: string, text: string): StepId[] =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((name) => {
        if ((STEP_IDS as readonly string[]).includes(name)) return name as StepId;
        throw new UsageError('usage.unknown-step', `${flag}: unknown step "${name}"${didYouMean(name, STEP_IDS)}; steps: ${STEP_IDS.join(', ')}`);
      });
  const onlyIds = only !== undefined ? parse('--only', only) : undefined;
  const skipIds = skip !== undefined ? parse('--skip', skip) : [];
  const both = skipIds.filter((id) => onlyIds?.includes(id));
  if (both.length > 0) {
    throw new UsageError('usage.only-skip', `--only and --skip both name ${both.join(', ')}: the two flags conflict`, {
      hint: `drop ${both.join(', ')} from one of them`,
    });
  }
  const selected = new Set<StepId>(onlyIds ?? STEP_IDS);
  for (const id of skipIds) selected.delete(id);
  return selected;
}
