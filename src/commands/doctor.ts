import type { CommandContext } from './context.js';
import { notAvailable } from './not-available.js';

export default async function doctor(_ctx: CommandContext): Promise<number> {
  return notAvailable('doctor', 'meanwhile: `iac up --dry-run` validates iac.yaml and shows the resolved plan');
}
