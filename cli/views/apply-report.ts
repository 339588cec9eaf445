/**
 * What apply did, as text or JSON: every account change that did not simply succeed, then the counts.
 */
import type { Plan } from '../../schemas/generated/plan.ts';
import type { ChangeResult } from '../../providers/write-targets.ts';
import type { ApplyResult } from '../../engine/runs/apply.ts';
import type { Output } from '../output.ts';

/** From this many changes of one app that failed (or were skipped) for the same reason, one line says them all. */
const GROUP_FROM = 4;

/** The apps a plan left out, one line each (text only; json carries plan.notPlanned). */
export function reportNotPlanned(out: Output, plan: Pick<Plan, 'notPlanned'>): void {
  for (const n of plan.notPlanned ?? []) {
    out.stdout(`  ${out.style.yellow('! not planned')} ${n.app} (${n.role}): cannot ${n.operation}: ${n.reason}\n`);
  }
}

export function renderApplyReport(out: Output, applied: Extract<ApplyResult, { status: 'applied' }>): void {
  const { plan, accounts: results } = applied;
  const u = plan.summary.users;
  const count = (outcome: ChangeResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
  const failed = count('failed');
  if (out.format === 'json') {
    out.stdout(JSON.stringify({ applied: true, complete: failed === 0, serial: applied.serial, lineage: applied.lineage, summary: plan.summary, accounts: results, ...(plan.notPlanned ? { notPlanned: plan.notPlanned } : {}) }) + '\n');
    return;
  }
  // Changes of one app that share an outcome and a message (a target down, a circuit opened) are one line.
  const groups = new Map<string, ChangeResult[]>();
  for (const r of results) {
    if (r.outcome === 'done') continue;
    const id = `${r.outcome}\u0000${r.app}\u0000${r.message ?? ''}`;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = []));
    group.push(r);
  }
  for (const group of groups.values()) {
    const r = group[0]!;
    const mark = r.outcome === 'failed' ? out.style.red('✗ failed') : out.style.yellow('! skipped');
    if (group.length < GROUP_FROM) {
      for (const g of group) out.stdout(`  ${mark} ${g.action} ${g.app}/${g.key}: ${g.message ?? ''}\n`);
    } else {
      const first = group.slice(0, 3).map((g) => `${g.action} ${g.key}`).join(', ');
      out.stdout(`  ${mark} ${group.length} changes of ${r.app} (${first}, …): ${r.message ?? ''} ${out.style.dim('(--format json lists each)')}\n`);
    }
  }
  reportNotPlanned(out, plan);
  const title = failed > 0 ? out.style.red(out.style.bold('Apply finished with failures.')) : out.style.green(out.style.bold('Apply complete!'));
  out.stdout(`\n${title} Users: ${u.create} created, ${u.update} updated, ${u.activate} activated, ${u.deactivate} deactivated, ${u.suspend} suspended, ${u.unsuspend} unsuspended. Links: ${plan.summary.links.link} added, ${plan.summary.links.unlink} removed.`);
  if (results.length > 0) out.stdout(` Accounts: ${count('done')} done, ${count('skipped')} skipped, ${failed} failed.`);
  out.stdout(` State serial ${applied.serial}.\n`);
  if (failed > 0 || count('skipped') > 0) out.stdout('Run idplane plan again: it shows what is left, and apply converges.\n');
  else if (plan.notPlanned) out.stdout(`${plan.notPlanned.length} app(s) were not planned; the next plan that can read them plans them.\n`);
}
