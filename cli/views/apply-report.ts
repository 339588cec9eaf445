/**
 * What apply did, as text or JSON: every account change that did not simply succeed, then the counts.
 */
import type { Plan } from '../../schemas/generated/plan.ts';
import type { DirectoryState } from '../../reconciler/model.ts';
import type { ChangeResult } from '../../providers/write-targets.ts';
import type { Output } from '../output.ts';

export function renderApplyReport(out: Output, plan: Plan, next: DirectoryState, results: ChangeResult[]): void {
  const u = plan.summary.users;
  const count = (outcome: ChangeResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
  const failed = count('failed');
  if (out.format === 'json') {
    out.stdout(JSON.stringify({ applied: true, complete: failed === 0, serial: next.serial, lineage: next.lineage, summary: plan.summary, accounts: results }) + '\n');
    return;
  }
  for (const r of results.filter((r) => r.outcome !== 'done')) {
    const mark = r.outcome === 'failed' ? out.style.red('✗ failed') : out.style.yellow('! skipped');
    out.stdout(`  ${mark} ${r.action} ${r.app}/${r.key}: ${r.message ?? ''}\n`);
  }
  const title = failed > 0 ? out.style.red(out.style.bold('Apply finished with failures.')) : out.style.green(out.style.bold('Apply complete!'));
  out.stdout(`\n${title} Users: ${u.create} created, ${u.update} updated, ${u.activate} activated, ${u.deactivate} deactivated, ${u.suspend} suspended, ${u.unsuspend} unsuspended. Links: ${plan.summary.links.link} added, ${plan.summary.links.unlink} removed.`);
  if (results.length > 0) out.stdout(` Accounts: ${count('done')} done, ${count('skipped')} skipped, ${failed} failed.`);
  out.stdout(` State serial ${next.serial}.\n`);
  if (failed > 0 || count('skipped') > 0) out.stdout('Run idplane plan again: it shows what is left, and apply converges.\n');
}
