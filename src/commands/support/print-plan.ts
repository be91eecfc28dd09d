import type { Output } from '../../pipeline/output.js';
import type { Plan } from '../../pipeline/types.js';

/** --dry-run: every step as it would run ("would …"), skipped steps with their reason. */
export function printPlan(output: Output, plan: Plan): void {
  if (output.json) {
    output.emit({
      type: 'plan',
      steps: plan.steps.map((step) => ({ id: step.id, title: step.title, actions: step.describe() })),
      skipped: plan.skipped,
    });
    return;
  }
  const c = output.chalk;
  output.info(c.bold(`iac ${plan.command} ${plan.environment} — dry run: nothing will be changed`));
  output.info(`  deploys ${plan.branch} @ ${plan.sha}`);
  for (const step of plan.steps) {
    output.info(`${c.cyan('▸')} ${c.bold(step.id)}  ${step.title}`);
    for (const line of step.describe()) output.info(`    ${line}`);
  }
  for (const skipped of plan.skipped) output.info(`${c.dim('○')} ${c.dim(`${skipped.id}  skipped: ${skipped.reason}`)}`);
}
