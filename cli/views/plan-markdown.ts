/**
 * Renders a plan as Markdown for pull-request comments: the counts first, deactivations and blockers
 * called out loudly, every change in a collapsed block. Personal data is masked by default (logins,
 * account keys and attribute values; attribute names, statuses and sources stay), since PR comments are
 * shared widely; `--show-personal-data` renders them in full. Reads only the plan document.
 */
import type { Plan, UserChange } from '../../schemas/generated/plan.ts';

export interface MarkdownOptions {
  /** Show logins, keys and values as they are. */
  unmasked: boolean;
}

export function renderPlanMarkdown(plan: Plan, options: MarkdownOptions): string {
  const maskLogin = (login: string) => (options.unmasked ? login : maskIdentifier(login));
  const maskValue = (value: unknown) => (options.unmasked ? `\`${JSON.stringify(value)}\`` : value === null ? '*(unset)*' : '`•••`');
  // Free text (conflict and warning messages) names people too: mask every e-mail address and login in it.
  const known = new Set<string>([...plan.users.map((u) => u.login), ...plan.accounts.map((a) => a.login), ...plan.conflicts.flatMap((c) => c.users ?? []), ...plan.warnings.flatMap((w) => w.users ?? [])]);
  const scrub = (text: string) => {
    if (options.unmasked) return text;
    const masked = text.replace(EMAIL, (m) => maskIdentifier(m));
    return [...known].filter((l) => !l.includes('@')).reduce((t, login) => t.split(login).join(maskIdentifier(login)), masked);
  };

  const s = plan.summary;
  const out: string[] = ['## idplane plan', ''];
  if (!plan.applyable) {
    out.push('> [!CAUTION]', '> **This plan cannot be applied.**');
    for (const b of plan.blockers) out.push(`> - ${b.code === 'safeguard' ? '**Safeguard:** ' : ''}${scrub(b.message)}`);
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
  if (plan.users.length > 0) {
    out.push('<details><summary>User changes</summary>', '');
    for (const u of plan.users) out.push(...userLines(u, maskLogin, maskValue), '');
    out.push('</details>', '');
  }
  if (plan.accounts.length > 0) {
    out.push('<details><summary>Account changes</summary>', '');
    for (const a of plan.accounts) {
      const names = Object.keys(a.attributes);
      out.push(`- **${a.action}** ${a.app} account for ${maskLogin(a.login)}${names.length ? `: ${names.join(', ')}` : ''}${a.skipped?.length ? ` (not written: ${a.skipped.map((x) => x.attribute).join(', ')})` : ''}`);
    }
    out.push('', '</details>', '');
  }
  const issues = [...plan.conflicts.map((c) => ['conflict', c] as const), ...plan.warnings.map((w) => ['warning', w] as const)];
  if (issues.length > 0 || plan.reviews.length > 0) {
    out.push('<details><summary>Conflicts, reviews and warnings</summary>', '');
    for (const [kind, i] of issues) out.push(`- **${kind}** \`${i.code}\`${i.app ? ` (${i.app})` : ''}: ${scrub(i.message)}`);
    for (const r of plan.reviews) out.push(`- **review** \`${r.kind}\` (${r.app}): ${scrub(r.message)}`);
    out.push('', '</details>', '');
  }
  if (!options.unmasked) out.push('<sub>Personal data is masked; run `idplane show PLAN --format markdown --show-personal-data` to see it.</sub>');
  return out.join('\n') + '\n';
}

function userLines(u: UserChange, maskLogin: (l: string) => string, maskValue: (v: unknown) => string): string[] {
  const head = `- **${u.action}** ${maskLogin(u.login)}${u.status ? ` (${u.status.from} → ${u.status.to})` : ''}${u.source ? `, source ${u.source.from} → ${u.source.to}` : ''}`;
  const attrs = Object.entries(u.attributes).map(([name, v]) => `  - \`${name}\`: ${maskValue(v.from)} → ${maskValue(v.to)}${v.outOfBand ? ' *(changed outside idplane; restored)*' : ''}`);
  return [head, ...attrs];
}

const EMAIL = /[^\s@,;:()<>"'`]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** `zoe.muller@example.com` → `z•••@example.com`; other identifiers keep their first character. */
export function maskIdentifier(value: string): string {
  const at = value.indexOf('@');
  return at > 0 ? `${value[0]}•••${value.slice(at)}` : `${value[0] ?? ''}•••`;
}
