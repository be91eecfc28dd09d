import { configJsonSchema } from '../config/schema.js';
import type { CommandContext } from './context.js';

/** `iac schema`: the JSON Schema of iac.yaml, for editors (yaml-language-server) and CI linters. */
export default async function schema(ctx: CommandContext): Promise<number> {
  const document = { $id: 'https://iac.dev/iac.schema.json', title: 'iac.yaml', ...configJsonSchema() };
  ctx.output.raw(`${JSON.stringify(document, null, 2)}\n`);
  return 0;
}
