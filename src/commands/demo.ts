import type { CommandContext } from './context.js';
import { notAvailable } from './not-available.js';

export default async function demo(_ctx: CommandContext): Promise<number> {
  return notAvailable('demo', 'see README.md: `npm test` runs the pipeline against the local sandboxes');
}
