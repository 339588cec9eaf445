/**
 * Renders a plan as Markdown for pull-request comments: the counts first, deactivations and blockers
 * called out loudly, every change in a collapsed block. Personal data is masked by default (logins,
 * account keys and attribute values; attribute names, statuses and sources stay), since PR comments are
 * shared widely; `--show-personal-data` renders them in full. Reads only the plan stream, item by item.
 */
import type { AccountChange, PlanIssue, ReviewItem, UserChange } from '../../schemas/generated/plan.ts';
import { changedAttributes } from '../../reconciler/diff.ts';
import type { Sink } from '../output.ts';
import type { PlanItem, PlanSource } from '../plan-stream.ts';

export interface MarkdownOptions {
  /** Show logins, keys and values as they are. */
  unmasked: boolean;
}

export async function renderPlanMarkdown(source: PlanSource, options: MarkdownOptions, sink: Sink): Promise<void> {
  const { header } = source;
  const maskLogin = (login: string) => (options.unmasked ? login : maskIdentifier(login));
  const maskValue = (value: unknown) => (options.unmasked ? `\`${JSON.stringify(value)}\`` : value === null ? '*(unset)*' : '`•••`');
  // Free text (conflict and warning messages) names people too: every e-mail address in it is masked, and
  // every other login the plan names (logins that are not e-mail addresses are few, and are collected).
  const known = new Set<string>();
  const remember = (login: string) => {
    if (!login.includes('@')) known.add(login);
  };
  const scrub = (text: string, users: readonly string[] = []) => {
    if (options.unmasked) return text;
    users.forEach(remember);
    const masked = text.replace(EMAIL, (m) => maskIdentifier(m));
    return [...known].reduce((t, login) => t.split(login).join(maskIdentifier(login)), masked);
  };

  const s = header.summary;
  const out: string[] = ['## idplane plan', ''];
  if (!header.applyable) {
    out.push('> [!CAUTION]', '> **This plan cannot be applied.**');
    for (const b of header.blockers) out.push(`> - ${b.code === 'safeguard' ? '**Safeguard:** ' : ''}${scrub(b.message)}`);
    out.push('');
  }
  const loud = s.users.deactivate + s.users.suspend + s.accounts.disable + s.accounts.delete;
  if (loud > 0) {
    out.push('> [!WARNING]', `> **${s.users.deactivate} user(s) will be deactivated, ${s.users.suspend} suspended; ${s.accounts.disable} account(s) disabled, ${s.accounts.delete} deleted.**`, '');
  }
  if (s.changes === 0 && s.imports === 0) out.push('**No changes.** The directory matches the sources and the configuration.', '');
  out.push(
    '| | create | update | activate | deactivate | suspend | unsuspend |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| users | ${s.users.create} | ${s.users.update} | ${s.users.activate} | ${s.users.deactivate} | ${s.users.suspend} | ${s.users.unsuspend} |`,
    '',
    `Accounts: ${s.accounts.create} to create, ${s.accounts.update} to update, ${s.accounts.enable} to enable, ${s.accounts.disable} to disable, ${s.accounts.delete} to delete, ${s.accounts.link} to link. ` +
      `Links: +${s.links.link} / -${s.links.unlink}. Reviews: ${s.reviews}. Conflicts: ${s.conflicts}. Warnings: ${s.warnings}.`,
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
  for await (const batch of source.batches()) {
    for (const item of batch) {
      enter(item.t);
      switch (item.t) {
        case 'user':
          remember(item.v.login);
          sink.write(userLines(item.v, maskLogin, maskValue).join('\n') + '\n\n');
          break;
        case 'account':
          remember(item.v.login);
          sink.write(accountLine(item.v, maskLogin) + '\n');
          break;
        case 'review': sink.write(reviewLine(item.v, scrub) + '\n'); break;
        case 'warning': sink.write(issueLine('warning', item.v, scrub) + '\n'); break;
        case 'conflict': sink.write(issueLine('conflict', item.v, scrub) + '\n'); break;
        case 'link': case 'import': case 'watermark': break;
        default: {
          const never: never = item;
          throw new Error(`unknown plan item ${JSON.stringify(never)}`);
        }
      }
    }
    await sink.drain();
  }
  close();
  if (!options.unmasked) sink.write('<sub>Personal data is masked; run `idplane show PLAN --format markdown --show-personal-data` to see it.</sub>\n');
  await sink.drain();
}

function userLines(u: UserChange, maskLogin: (l: string) => string, maskValue: (v: unknown) => string): string[] {
  const head = `- **${u.action}** ${maskLogin(u.login)}${u.status ? ` (${u.status.from} → ${u.status.to})` : ''}${u.source ? `, source ${u.source.from} → ${u.source.to}` : ''}`;
  const attrs = Object.entries(changedAttributes(u)).map(([name, v]) => `  - \`${name}\`: ${maskValue(v.from)} → ${maskValue(v.to)}${v.outOfBand ? ' *(changed outside idplane; restored)*' : ''}`);
  return [head, ...attrs];
}

function accountLine(a: AccountChange, maskLogin: (l: string) => string): string {
  const names = Object.keys(a.attributes);
  return `- **${a.action}** ${a.app} account for ${maskLogin(a.login)}${names.length ? `: ${names.join(', ')}` : ''}${a.skipped?.length ? ` (not written: ${a.skipped.map((x) => x.attribute).join(', ')})` : ''}`;
}

function issueLine(kind: 'conflict' | 'warning', i: PlanIssue, scrub: (text: string, users?: readonly string[]) => string): string {
  return `- **${kind}** \`${i.code}\`${i.app ? ` (${i.app})` : ''}: ${scrub(i.message, i.users)}`;
}

function reviewLine(r: ReviewItem, scrub: (text: string, users?: readonly string[]) => string): string {
  return `- **review** \`${r.kind}\` (${r.app}): ${scrub(r.message, r.candidates)}`;
}

const EMAIL = /[^\s@,;:()<>"'`]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** `zoe.muller@example.com` → `z•••@example.com`; other identifiers keep their first character. */
export function maskIdentifier(value: string): string {
  const at = value.indexOf('@');
  return at > 0 ? `${value[0]}•••${value.slice(at)}` : `${value[0] ?? ''}•••`;
}
