import type { CommandContext } from './context.js';
import { notAvailable } from './not-available.js';

export default async function promote(_ctx: CommandContext): Promise<number> {
  return notAvailable('promote', 'meanwhile: `git checkout main && git merge --ff-only develop && iac up main`');
}
