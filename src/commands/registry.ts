import type { CommandContext } from './context.js';

export type CommandName = 'up' | 'promote' | 'rollback' | 'history' | 'status' | 'init' | 'doctor' | 'inventory' | 'demo' | 'schema';

export type CommandModule = { default: (ctx: CommandContext) => Promise<number> };

/** Each command's module, imported only when that command runs. */
export const COMMANDS: Record<CommandName, () => Promise<CommandModule>> = {
  up: () => import('./up.js'),
  promote: () => import('./promote.js'),
  rollback: () => import('./rollback.js'),
  history: () => import('./history.js'),
  status: () => import('./status.js'),
  init: () => import('./init.js'),
  doctor: () => import('./doctor.js'),
  inventory: () => import('./inventory.js'),
  demo: () => import('./demo.js'),
  schema: () => import('./schema.js'),
};
