import type { CommandContext } from './context.js';
import { notAvailable } from './not-available.js';

export default async function status(_ctx: CommandContext): Promise<number> {
  return notAvailable('status', 'meanwhile: `iac up --dry-run` shows what each environment deploys');
}
