/**
 * What apply did, as text or JSON: every account change that did not simply succeed, then the counts.
 */
import type { Plan } from '../../schemas/generated/plan.ts';
import type { ChangeResult } from '../../providers/write-targets.ts';
import type { ApplyResult } from '../../engine/runs/apply.ts';
import type { ReviewCheck, SinceReason } from '../../engine/plan-verify.ts';
import type { Output } from '../output.ts';
import { createMasking } from './masking.ts';
import { n } from './style.ts';

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
    out.stdout(JSON.stringify({ applied: true, complete: failed === 0, serial: applied.serial, lineage: applied.lineage, summary: plan.summary, accounts: results, ...(plan.notPlanned ? { notPlanned: plan.notPlanned } : {}), ...(applied.review ? { review: applied.review } : {}) }) + '\n');
    return;
  }
  reportReview(out, applied.review);
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

const WHY: Record<SinceReason, string> = {
  inputs: 'their data changed since the review',
  applied: 'the reviewed change was made since (applied already)',
  new: 'not in the reviewed plan',
  target: 'their account in the target changed since the review',
};

/** How many users of the data changes since the review are named (the JSON output lists all). */
const NAMED = 10;

/**
 * The saved plan's check, when the data or the state moved since it was made: what is the reviewed
 * effect, what are data changes since the review (planned again, counted by safeguards and policies), and
 * that nothing was refused (a refusal stops apply before anything is written, with the same three parts).
 */
export function reportReview(out: Output, review: ReviewCheck | undefined, always = false): void {
  if (!review || (!review.moved && !always) || out.format !== 'text') return;
  const { style } = out;
  out.stdout(`${style.bold('The reviewed plan, checked against the data and the state at apply:')}\n`);
  out.stdout(`  ${style.green('✓ reviewed effect')}  ${n(review.reviewed)} change(s), exactly as the saved plan shows them\n`);
  const users = review.since.length;
  const changes = review.since.reduce((sum, s) => sum + s.changes, 0);
  out.stdout(`  ${style.yellow('~ data changes')}     ${n(users)} user(s) with ${n(changes)} change(s) since the review, planned again against today's data${review.records > 0 ? `; ${n(review.records)} record(s) and other items differ with the data` : ''}\n`);
  for (const s of review.since.slice(0, NAMED)) out.stdout(`      ${s.login}: ${WHY[s.why]}\n`);
  if (users > NAMED) out.stdout(`      … and ${n(users - NAMED)} more ${style.dim('(--format json lists each)')}\n`);
  out.stdout(`  ${style.dim('✗ refused')}          none\n\n`);
}

/**
 * apply --dry-run: what applying the saved plan now would do, in three parts, and the plan's counts.
 * Markdown (a CI job summary the approver reads before approving the apply) masks logins as the pull
 * request's comment does.
 */
export function renderCheck(out: Output, checked: Extract<ApplyResult, { status: 'checked' }>): void {
  const { plan, review } = checked;
  const s = plan.summary;
  const accounts = s.accounts.create + s.accounts.update + s.accounts.disable + s.accounts.enable + s.accounts.delete + s.accounts.link;
  const counts = `${n(s.users.create)} users to create, ${n(s.users.update)} to update, ${n(s.users.deactivate)} to deactivate, ${n(s.users.suspend)} to suspend; ${n(accounts)} account change(s)`;
  const changes = review.since.reduce((sum, x) => sum + x.changes, 0);
  switch (out.format) {
    case 'json':
      out.stdout(JSON.stringify({ checked: true, applyable: plan.applyable, summary: s, review, ...(plan.notPlanned ? { notPlanned: plan.notPlanned } : {}) }) + '\n');
      return;
    case 'markdown': {
      const mask = createMasking({ unmasked: false, ...(plan.unmaskedAttributes ? { shown: plan.unmaskedAttributes } : {}), salt: plan.state.lineage });
      const named = review.since.slice(0, NAMED).map((x) => `${mask.user(x.login)} (${WHY[x.why]})`);
      const more = review.since.length > NAMED ? `, and ${n(review.since.length - NAMED)} more` : '';
      out.stdout([
        '## idplane: what applying the reviewed plan does now', '',
        `- ✓ **Reviewed effect**: ${n(review.reviewed)} change(s), exactly as the pull request's plan shows them`,
        `- ~ **Data changes since the review**: ${n(review.since.length)} user(s) with ${n(changes)} change(s)${named.length ? `: ${named.join(', ')}${more}` : ''}`,
        '- ✗ **Refused**: none (apply refuses the whole plan, writing nothing, when anything else differs)', '',
        `The plan apply will carry out: ${counts}.`, '',
      ].join('\n'));
      return;
    }
    case 'text':
      reportReview(out, review, true);
      reportNotPlanned(out, plan);
      out.stdout(`Checked, nothing written: applying the plan now would carry out ${counts}.\n`);
      return;
  }
}
