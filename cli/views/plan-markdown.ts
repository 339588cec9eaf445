/**
 * Renders a plan as Markdown for pull-request comments: the counts first, deactivations and blockers
 * called out loudly, every change in a collapsed block. Personal data is masked by default, since PR
 * comments are shared widely (views/masking.ts): logins and account keys become stable short tags,
 * and attribute values read ••• except for the attributes the plan lists as unmasked (title,
 * department, status, ... : `sensitive: false`); attribute names, statuses and sources stay.
 * `--show-personal-data` renders everything. Reads only the plan stream, item by item.
 */
import type { AccountChange, PlanIssue, ReviewItem, UserChange } from '../../schemas/generated/plan.ts';
import { changedAttributes } from '../../reconciler/diff.ts';
import type { Sink } from '../output.ts';
import type { PlanItem, PlanSource } from '../../engine/plan-stream.ts';
import { blockerMarkdownLines, notPlannedMarkdownLines, superAdminSentence } from './blockers.ts';
import { n } from './style.ts';
import { createMasking, type Masking } from './masking.ts';

/** Characters each collapsed section may take; with the counts above them, under GitHub's 65,536. */
const SECTION_BUDGET = { user: 34_000, account: 14_000, review: 12_000 };

export interface MarkdownOptions {
  /** Show logins, keys and values as they are. */
  unmasked: boolean;
}

export async function renderPlanMarkdown(source: PlanSource, options: MarkdownOptions, sink: Sink): Promise<void> {
  const { header } = source;
  const mask = createMasking({ unmasked: options.unmasked, ...(header.unmaskedAttributes ? { shown: header.unmaskedAttributes } : {}), salt: header.state.lineage });
  const scrub = (text: string, names: readonly (string | null | undefined)[] = []) => mask.text(text, names);

  const s = header.summary;
  const out: string[] = ['## idplane plan', ''];
  const superAdmin = superAdminSentence(s, (login) => mask.user(login));
  if (superAdmin) out.push('> [!CAUTION]', `> **${superAdmin}**`, '');
  if (!header.applyable) {
    out.push('> [!CAUTION]', '> **This plan cannot be applied.**');
    out.push(...blockerMarkdownLines(header.blockers, (m) => scrub(m)));
    out.push('');
  }
  out.push(...notPlannedMarkdownLines(header.notPlanned, (m) => scrub(m)));
  const loud = s.users.deactivate + s.users.suspend + s.accounts.disable + s.accounts.delete;
  if (loud > 0) {
    out.push('> [!WARNING]', `> **${n(s.users.deactivate)} user(s) will be deactivated, ${n(s.users.suspend)} suspended; ${n(s.accounts.disable)} account(s) disabled, ${n(s.accounts.delete)} deleted.**`, '');
  }
  const policies = header.policies ?? [];
  if (policies.length > 0) {
    const broken = policies.filter((p) => p.broken).map((p) => `\`${p.name}\``);
    out.push(`Policies: ${policies.length} checked, ${broken.length === 0 ? 'all kept' : `broken: ${broken.join(', ')}`}.`, '');
  }
  if (s.changes === 0 && s.imports === 0 && (s.heldBack ?? 0) > 0) out.push(`**No changes**, but rows of ${s.heldBack === 1 ? 'a source' : `${s.heldBack} sources`} could not be read, so what they hold was not compared (see the warnings): the directory may not match the sources.`, '');
  else if (s.changes === 0 && s.imports === 0 && s.conflicts > 0) out.push(`**No changes**, but ${s.conflicts === 1 ? 'a conflict holds' : `${n(s.conflicts)} conflicts hold`} something back (see the conflicts): the directory may not match the sources and the configuration.`, '');
  else if (s.changes === 0 && s.imports === 0) out.push('**No changes.** The directory matches the sources and the configuration.', '');
  out.push(
    '| | create | update | activate | deactivate | suspend | unsuspend |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| users | ${n(s.users.create)} | ${n(s.users.update)} | ${n(s.users.activate)} | ${n(s.users.deactivate)} | ${n(s.users.suspend)} | ${n(s.users.unsuspend)} |`,
    '',
    `Accounts: ${n(s.accounts.create)} to create, ${n(s.accounts.update)} to update, ${n(s.accounts.enable)} to enable, ${n(s.accounts.disable)} to disable, ${n(s.accounts.delete)} to delete, ${n(s.accounts.link)} to link. ` +
      `Links: +${n(s.links.link)} / -${n(s.links.unlink)}. Reviews: ${n(s.reviews)}. Conflicts: ${n(s.conflicts)}. Warnings: ${n(s.warnings)}.`,
    '',
  );
  sink.write(out.join('\n') + '\n');

  const SUMMARY: Partial<Record<PlanItem['t'], string>> = { user: 'User changes', account: 'Account changes', review: 'Conflicts, reviews and warnings' };
  let open: string | null = null;
  // User blocks end with a blank line already; the one-line items need one before </details>.
  const close = () => {
    if (open) sink.write(`${open === SUMMARY.user ? '' : '\n'}</details>\n\n`);
  };
  const enter = (t: PlanItem['t']) => {
    const title = t === 'warning' || t === 'conflict' ? SUMMARY.review! : SUMMARY[t];
    if (title === undefined || title === open) return;
    close();
    sink.write(`<details><summary>${title}</summary>\n\n`);
    open = title;
  };
  // A pull-request comment holds 65,536 characters (GitHub): each section has a share of that, so that
  // conflicts still show after 100k user changes; what does not fit is counted and said.
  const budget = { ...SECTION_BUDGET };
  const left = { user: 0, account: 0, review: 0 };
  const section = (t: PlanItem['t']): keyof typeof left => (t === 'user' ? 'user' : t === 'account' ? 'account' : 'review');
  const emit = (t: PlanItem['t'], text: string) => {
    const s = section(t);
    if (text.length > budget[s]) {
      left[s] += 1;
      budget[s] = 0;
      return;
    }
    budget[s] -= text.length;
    sink.write(text);
  };
  const omitted = (s: keyof typeof left) => {
    if (left[s] === 0) return;
    sink.write(`${s === 'user' ? '' : '\n'}*…and ${left[s]} more not shown here (a comment holds 65,536 characters); \`idplane show PLANFILE\` lists them all.*\n${s === 'user' ? '\n' : ''}`);
    left[s] = 0;
  };
  let current: keyof typeof left | null = null;
  for await (const batch of source.batches()) {
    for (const item of batch) {
      if (SUMMARY[item.t] !== undefined || item.t === 'warning' || item.t === 'conflict') {
        if (current !== null && current !== section(item.t)) omitted(current);
        current = section(item.t);
      }
      enter(item.t);
      switch (item.t) {
        case 'user': emit('user', userLines(item.v, mask).join('\n') + '\n\n'); break;
        case 'account': emit('account', accountLine(item.v, mask) + '\n'); break;
        case 'review': emit('review', reviewLine(item.v, scrub) + '\n'); break;
        case 'warning': emit('warning', issueLine('warning', item.v, scrub) + '\n'); break;
        case 'conflict': emit('conflict', issueLine('conflict', item.v, scrub) + '\n'); break;
        case 'link': case 'import': case 'watermark': break;
        default: {
          const never: never = item;
          throw new Error(`unknown plan item ${JSON.stringify(never)}`);
        }
      }
    }
    await sink.drain();
  }
  if (current !== null) omitted(current);
  close();
  if (!options.unmasked) sink.write('<sub>Personal data is masked; run `idplane show PLAN --format markdown --show-personal-data` to see it.</sub>\n');
  await sink.drain();
}

function userLines(u: UserChange, mask: Masking): string[] {
  const head = `- **${u.action}** ${mask.user(u.login)}${u.status ? ` (${u.status.from} → ${u.status.to})` : ''}${u.source ? `, source ${u.source.from} → ${u.source.to}` : ''}`;
  const attrs = Object.entries(changedAttributes(u)).map(([name, v]) => `  - \`${name}\`: ${mask.value(name, v.from)} → ${mask.value(name, v.to)}${v.outOfBand ? ' *(changed outside idplane; restored)*' : ''}`);
  return [head, ...attrs];
}

function accountLine(a: AccountChange, mask: Masking): string {
  const names = Object.keys(a.attributes);
  return `- **${a.action}** ${a.app} account ${mask.id(a.key)} for ${mask.user(a.login)}${names.length ? `: ${names.join(', ')}` : ''}${a.skipped?.length ? ` (not written: ${a.skipped.map((x) => x.attribute).join(', ')})` : ''}`;
}

type Scrub = (text: string, names?: readonly (string | null | undefined)[]) => string;

function issueLine(kind: 'conflict' | 'warning', i: PlanIssue, scrub: Scrub): string {
  return `- **${kind}** \`${i.code}\`${i.app ? ` (${i.app})` : ''}: ${scrub(i.message, [...(i.users ?? []), i.key])}`;
}

function reviewLine(r: ReviewItem, scrub: Scrub): string {
  return `- **review** \`${r.kind}\` (${r.app}): ${scrub(r.message, [...r.candidates, r.key])}`;
}
