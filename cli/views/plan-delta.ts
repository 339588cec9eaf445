/**
 * Renders a plan delta (plan --git-base REF): what the working tree's config changes about what apply
 * would do, compared with the config at REF. Text for terminals and CI logs; Markdown for the pull
 * request comment (counts first, the head plan's blockers and broken policies at the top, details
 * collapsed, logins masked, under GitHub's 65,536 characters); JSON is the delta document itself
 * (schemas/plan-delta.schema.json).
 */
import type { ActionDelta, GuardrailChange, PlanDelta } from '../../schemas/generated/plan-delta.ts';
import type { Sink } from '../output.ts';
import { blockerMarkdownLines, blockerTextLines, notPlannedMarkdownLines, notPlannedTextLines, superAdminSentence } from './blockers.ts';
import { createMasking, type Masking } from './masking.ts';
import { n, type Style } from './style.ts';

const LIST_LIMIT = 200;
/** Groups of the same difference shown (the delta keeps up to 100). */
const GROUPS_SHOWN = 20;
const MARKDOWN_DETAILS_BUDGET = 50_000;
/** What the whole comment may take (GitHub's limit is 65,536), and the summary above the collapsed lists. */
const COMMENT_BUDGET = 64_000;
const SUMMARY_BUDGET = 40_000;
/** Longer expressions are cut in the comment (the JSON output has them whole). */
const EXPRESSION_SHOWN = 200;

/** Pending changes shown by value (the JSON output has up to 100). */
const PENDING_GROUPS_SHOWN = 10;

/** `3 create, 1 deactivate` of a pending-changes count, largest first, or ''. */
function actionCounts(counts: Record<string, number>): string {
  return Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([action, count]) => `${n(count)} ${action}`).join(', ');
}

/** The pending data changes' first sentence: `12 users (3 create, …) and 2 accounts (2 disable)`. */
function pendingSentence(pending: NonNullable<PlanDelta['pending']>): string {
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, c) => sum + c, 0);
  const parts = [
    total(pending.users) > 0 ? `${n(total(pending.users))} user change(s) (${actionCounts(pending.users)})` : '',
    total(pending.accounts) > 0 ? `${n(total(pending.accounts))} account change(s) (${actionCounts(pending.accounts)})` : '',
  ].filter(Boolean);
  return parts.join(' and ');
}

function actionLine(a: ActionDelta, directory?: number): string {
  const what = a.kind === 'user' ? `${a.action} of users sourced by ${a.app}` : `${a.action} of ${a.app} accounts`;
  const part = a.kind === 'user' ? share(Math.abs(a.delta), directory) : '';
  return `${a.delta > 0 ? 'adds' : 'removes'} ${n(Math.abs(a.delta))} ${what} (${n(a.base)} → ${n(a.head)}${part ? `, ${part}` : ''})`;
}

/** `12% of the directory's 51,000 users`: a count's share of the stored directory, or '' when it is not known. */
function share(count: number, directory: number | undefined): string {
  if (directory === undefined || directory === 0) return '';
  const percent = (count / directory) * 100;
  const shown = percent >= 10 || percent === 0 ? Math.round(percent).toString() : percent < 0.1 ? '<0.1' : percent.toFixed(1);
  return `${shown}% of the directory's ${n(directory)} users`;
}

const inParentheses = (text: string) => (text ? ` (${text})` : '');

type Reason = NonNullable<PlanDelta['reasons']>[number];

/** Markdown inline code that holds any text: a fence of more backticks than the text has in a row. */
function inlineCode(text: string): string {
  const run = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(run + 1);
  return run === 0 ? `${fence}${text}${fence}` : `${fence} ${text} ${fence}`;
}

/** A reason as a sentence: the setting, where it is written, and its text before and after (or what it reads). */
function reasonText(r: Reason, quote: (text: string) => string): string {
  const code = (text: string) => quote(text.length > EXPRESSION_SHOWN ? `${text.slice(0, EXPRESSION_SHOWN)}…` : text);
  const where = `${code(r.setting)} at ${r.location}`;
  if (r.reads) return `${where} (${code(r.head ?? '')}) reads ${r.reads.join(', ')}, whose mapping this change changes`;
  if (r.base === null) return `${where} is new: ${code(r.head!)}`;
  if (r.head === null) return `${where} is removed (it was ${code(r.base)})`;
  return `${where}: ${code(r.base)} → ${code(r.head)}`;
}

/** The reasons that explain an action or attribute line of the delta. */
function reasonsOf(delta: PlanDelta, line: { kind: 'user' | 'account'; app: string | null; action?: string; attribute?: string }): Reason[] {
  return (delta.reasons ?? []).filter(({ affects: a }) => {
    if (line.kind === 'user') return line.attribute !== undefined ? a.attribute === line.attribute : a.status === true && a.app === line.app;
    if (a.app !== line.app) return false;
    return line.attribute !== undefined ? a.accountAttribute === line.attribute : line.action === 'update' ? a.accountAttribute !== undefined : a.assignment === true;
  });
}

/** ` — because …` for a line, or ''. */
function because(reasons: readonly Reason[], code: (text: string) => string): string {
  return reasons.length === 0 ? '' : ` — because ${reasons.map((r) => reasonText(r, code)).join('; ')}`;
}

/** The reasons no action or attribute line of the delta shows. */
function otherReasons(delta: PlanDelta): Reason[] {
  const shown = new Set<Reason>();
  for (const a of delta.actions) for (const r of reasonsOf(delta, a)) shown.add(r);
  for (const a of delta.attributes) for (const r of reasonsOf(delta, { kind: a.kind, app: a.app, attribute: a.attribute })) shown.add(r);
  return (delta.reasons ?? []).filter((r) => !shown.has(r));
}

/** Values named per action in the countBy lines (the JSON output has every one). */
const COUNTED_VALUES = 10;

type Group = NonNullable<PlanDelta['groups']>[number];

/** `~ title: "A" → "B": 3 (ann@…, bo@…, …)` */
function groupTextLine(g: Group, style: Style): string {
  const what = g.kind === 'user' ? g.attribute : `${g.app} account ${g.attribute}`;
  return `  ${style.yellow('~')} ${what}: ${shown(g.base)} → ${shown(g.head)}: ${n(g.count)} (${g.examples.join(', ')}${g.count > g.examples.length ? ', …' : ''})`;
}

/** `- **title**: `"A"` → `"B"`: 3 users (`#…`, …)`, personal values and logins masked. */
function groupMarkdownLine(g: Group, mask: Masking): string {
  const what = g.kind === 'user' ? `**${g.attribute}**` : `**${g.app}** account **${g.attribute}**`;
  const examples = g.examples.map((l) => mask.user(l)).join(', ');
  return `- ${what}: ${mask.value(g.attribute, g.base)} → ${mask.value(g.attribute, g.head)}: ${n(g.count)} ${g.kind === 'user' ? 'user' : 'account'}${g.count === 1 ? '' : 's'} (${examples}${g.count > g.examples.length ? ', …' : ''})`;
}

/** One line per action of plan.countBy's counts: `deactivate: "Sales" 12, "Finance" 3`. */
function countedLines(counted: PlanDelta['countedBy'], value: (v: string | null) => string): string[] {
  if (!counted) return [];
  const byAction = new Map<string, { value: string | null; count: number }[]>();
  for (const row of counted.rows) {
    const list = byAction.get(row.action) ?? [];
    list.push(row);
    byAction.set(row.action, list);
  }
  return [...byAction].map(([action, rows]) => {
    const shown = rows.slice(0, COUNTED_VALUES).map((r) => `${value(r.value)} ${n(r.count)}`).join(', ');
    const rest = rows.slice(COUNTED_VALUES).reduce((sum, r) => sum + r.count, 0);
    return `${action}: ${shown}${rest > 0 ? `, and ${n(rest)} more in ${n(rows.length - COUNTED_VALUES)} other value(s)` : ''}`;
  });
}

/** The commits compared: `` `main` at abc123456789; this change at def456789012 `` (a base given as a hash is named once). */
function commits(delta: PlanDelta, code: (text: string) => string): string {
  const base = delta.base.commit.startsWith(delta.base.ref) ? code(delta.base.commit.slice(0, 12)) : `${code(delta.base.ref)} at ${delta.base.commit.slice(0, 12)}`;
  return delta.head.commit ? `${base}; this change at ${delta.head.commit.slice(0, 12)}` : base;
}

function attributeLine(a: PlanDelta['attributes'][number]): string {
  return `changes the planned ${a.attribute}${a.app ? ` in ${a.app}` : ''} for ${n(a.count)} ${a.kind === 'user' ? 'user' : 'account'}${a.count === 1 ? '' : 's'}`;
}

const change = (action: string | null) => action ?? 'no change';

const shown = (value: unknown) => (value === null ? '(not set)' : JSON.stringify(value));

/** One guardrail change: `safeguards.allowMassChange: (not set) → true`; `user` renders a login. */
function guardrailText(g: GuardrailChange, user: (login: string) => string, value: (v: unknown) => string): string {
  const name = g.login === undefined ? g.setting : `${g.setting} of ${user(g.login)}`;
  return `${name}: ${value(g.from)} → ${value(g.to)}`;
}

export function renderDeltaText(delta: PlanDelta, style: Style, sink: Sink): void {
  const out: string[] = [];
  const superAdmin = superAdminSentence(delta.head.summary, (login) => login);
  if (superAdmin) out.push(style.red(style.bold(`! ${superAdmin.replace('This plan', "The working tree's plan")}`)), '');
  const base = `${delta.base.ref} (${delta.base.commit.slice(0, 12)})`;
  const guardrails = delta.guardrails ?? [];
  if (guardrails.length > 0 || (delta.unblocks ?? []).length > 0) {
    out.push(style.yellow(style.bold('! This change touches guardrails:')));
    for (const g of guardrails) out.push(style.yellow(`    ${guardrailText(g, (login) => login, (v) => shown(v))}`));
    if ((delta.unblocks ?? []).length > 0) {
      out.push(style.yellow(`  It unblocks what kept the plan at ${base} from being applied:`));
      for (const m of delta.unblocks!) out.push(style.yellow(`    - ${m}`));
    }
    out.push('');
  }
  if (delta.counts.users === 0 && delta.counts.accounts === 0) {
    out.push(guardrails.length > 0
      ? `${style.bold('No difference in the planned changes')} from ${base}, but the guardrails above are not the same.`
      : `${style.bold('No difference.')} The working tree's config plans the same changes as ${base}.`);
  } else {
    out.push(`${style.bold(`Compared with ${base}`)}, this config plans ${n(delta.counts.users)} user(s)${inParentheses(share(delta.counts.users, delta.directory))} and ${n(delta.counts.accounts)} account(s) differently:`);
    const plain = (t: string) => `\`${t}\``;
    for (const a of delta.actions) out.push(`  ${a.delta > 0 ? style.green('+') : style.red('-')} ${actionLine(a, delta.directory)}${because(reasonsOf(delta, a), plain)}`);
    for (const a of delta.attributes) out.push(`  ${style.yellow('~')} ${attributeLine(a)}${because(reasonsOf(delta, { kind: a.kind, app: a.app, attribute: a.attribute }), plain)}`);
    for (const r of otherReasons(delta)) out.push(`  ${style.yellow('~')} ${reasonText(r, plain)}`);
    const counted = countedLines(delta.countedBy, (v) => (v === null ? '(none)' : JSON.stringify(v)));
    if (counted.length > 0) out.push('', style.bold(`By ${delta.countedBy!.attribute}, the users whose planned action this change makes different:`), ...counted.map((l) => `  ${l}`));
    const groups = (delta.groups ?? []).slice(0, GROUPS_SHOWN);
    if (groups.length > 0) {
      out.push('', style.bold('By value, the largest first:'));
      for (const g of groups) out.push(groupTextLine(g, style));
    }
    if (delta.users.length > 0) {
      out.push('', style.bold('Users:'));
      for (const u of delta.users.slice(0, LIST_LIMIT)) out.push(`  ${u.login}: ${change(u.base)} → ${change(u.head)}${u.attributes.length ? ` (${u.attributes.join(', ')})` : ''}`);
      if (delta.users.length > LIST_LIMIT) out.push(style.dim(`  …and ${delta.users.length - LIST_LIMIT} more (--format json lists them all)`));
    }
    if (delta.accounts.length > 0) {
      out.push('', style.bold('Accounts:'));
      for (const a of delta.accounts.slice(0, LIST_LIMIT)) out.push(`  ${a.app}/${a.key} (${a.login}): ${change(a.base)} → ${change(a.head)}${a.attributes.length ? ` (${a.attributes.join(', ')})` : ''}`);
      if (delta.accounts.length > LIST_LIMIT) out.push(style.dim(`  …and ${delta.accounts.length - LIST_LIMIT} more (--format json lists them all)`));
    }
  }
  if (delta.pending) {
    out.push('', style.bold(`Pending data changes, which the merge applies too (as would any apply at ${delta.base.ref} now):`), `  ${pendingSentence(delta.pending)}`);
    for (const g of (delta.pending.groups ?? []).slice(0, PENDING_GROUPS_SHOWN)) out.push(groupTextLine(g, style));
  }
  out.push('');
  if (delta.head.applyable) out.push(`The working tree's plan can be applied${delta.base.applyable ? '' : ` (the plan at ${delta.base.ref} could not)`}.`);
  else {
    out.push(style.red(style.bold("The working tree's plan cannot be applied:")));
    out.push(...blockerTextLines(delta.head.blockers, style));
  }
  out.push(...notPlannedTextLines(delta.head.notPlanned, style));
  sink.write(out.join('\n') + '\n');
}

export function renderDeltaMarkdown(delta: PlanDelta, options: { unmasked: boolean; shown?: readonly string[]; salt: string | null }, sink: Sink): void {
  const mask = createMasking({ unmasked: options.unmasked, ...(options.shown ? { shown: options.shown } : {}), salt: options.salt });
  const out: string[] = [`## idplane plan: what this change does (compared with ${commits(delta, (t) => `\`${t}\``)})`, ''];
  if (delta.run) out.push(`Made by [this CI run](${delta.run}).`, '');
  const superAdmin = superAdminSentence(delta.head.summary, (login) => mask.user(login));
  if (superAdmin) out.push('> [!CAUTION]', `> **${superAdmin.replace('This plan', 'The plan of this change')}**`, '');
  const guardrails = delta.guardrails ?? [];
  if (guardrails.length > 0 || (delta.unblocks ?? []).length > 0) {
    out.push('> [!WARNING]', '> **This change touches guardrails:**');
    for (const g of guardrails) out.push(`> - ${guardrailText(g, (login) => mask.user(login), (v) => (v === null ? '*(not set)*' : `\`${JSON.stringify(v)}\``))}`);
    if ((delta.unblocks ?? []).length > 0) {
      out.push('>', `> **It unblocks** what kept the plan at \`${delta.base.ref}\` from being applied:`);
      for (const m of delta.unblocks!) out.push(`> - ${mask.text(m)}`);
    }
    out.push('');
  }
  if (!delta.head.applyable) {
    out.push('> [!CAUTION]', '> **The plan of this change cannot be applied.**');
    out.push(...blockerMarkdownLines(delta.head.blockers, (m) => mask.text(m)));
    out.push('');
  }
  out.push(...notPlannedMarkdownLines(delta.head.notPlanned, (m) => mask.text(m)));
  const loud = delta.actions.filter((a) => a.delta > 0 && ['deactivate', 'suspend', 'disable', 'delete'].includes(a.action));
  if (loud.length > 0) out.push('> [!WARNING]', ...loud.map((a) => `> **This change ${actionLine(a, delta.directory)}.**`), '');
  if (delta.counts.users === 0 && delta.counts.accounts === 0) {
    out.push(guardrails.length > 0
      ? `**No difference in the planned changes** from \`${delta.base.ref}\`, but the guardrails above are not the same.`
      : `**No difference**: this change plans the same changes as \`${delta.base.ref}\`.`, '');
  }
  else {
    out.push(`This change plans **${n(delta.counts.users)} user(s)**${inParentheses(share(delta.counts.users, delta.directory))} and **${n(delta.counts.accounts)} account(s)** differently:`, '');
    const code = (t: string) => inlineCode(t);
    for (const a of delta.actions) out.push(`- ${actionLine(a, delta.directory)}${because(reasonsOf(delta, a), code)}`);
    for (const a of delta.attributes) out.push(`- ${attributeLine(a)}${because(reasonsOf(delta, { kind: a.kind, app: a.app, attribute: a.attribute }), code)}`);
    for (const r of otherReasons(delta)) out.push(`- ${reasonText(r, code)}`);
    out.push('');
    const counted = countedLines(delta.countedBy, (v) => (v === null ? '*(none)*' : mask.value(delta.countedBy!.attribute, v)));
    if (counted.length > 0) out.push(`By **${delta.countedBy!.attribute}**, the users whose planned action this change makes different:`, '', ...counted.map((l) => `- ${l}`), '');
    const groups = (delta.groups ?? []).slice(0, GROUPS_SHOWN);
    if (groups.length > 0) {
      out.push('By value, the largest first:', '');
      for (const g of groups) out.push(groupMarkdownLine(g, mask));
      out.push('');
    }
  }
  if (delta.pending) {
    out.push(`**Pending data changes**, which the merge applies too (as would any apply at \`${delta.base.ref}\` now): ${pendingSentence(delta.pending)}.`, '');
    const pendingGroups = (delta.pending.groups ?? []).slice(0, PENDING_GROUPS_SHOWN);
    for (const g of pendingGroups) out.push(groupMarkdownLine(g, mask));
    if (pendingGroups.length > 0) out.push('');
  }
  const s = delta.head.summary;
  out.push(`The plan of this change: ${n(s.users.create)} users to create, ${n(s.users.update)} to update, ${n(s.users.deactivate)} to deactivate, ${n(s.users.suspend)} to suspend; ${n(s.accounts.create + s.accounts.update + s.accounts.disable + s.accounts.enable + s.accounts.delete + s.accounts.link)} account change(s); conflicts: ${n(s.conflicts)}.`, '');
  // Whatever the config and the data (a thousand changed mappings, long expressions), the comment stays
  // under its limit: the summary above takes at most SUMMARY_BUDGET, the collapsed lists the rest.
  let used = 0;
  const kept = out.findIndex((line) => (used += line.length + 1) > SUMMARY_BUDGET);
  if (kept >= 0) out.splice(kept, out.length - kept, `*…the rest of this summary is not shown here (a comment holds 65,536 characters); \`idplane plan --git-base ${delta.base.ref} --format json\` has all of it.*`, '');
  let budget = Math.min(MARKDOWN_DETAILS_BUDGET, COMMENT_BUDGET - out.reduce((sum, line) => sum + line.length + 1, 0));
  const section = (title: string, lines: string[]) => {
    if (lines.length === 0) return;
    out.push(`<details><summary>${title}</summary>`, '');
    let shown = 0;
    for (const line of lines) {
      if (line.length + 1 > budget) break;
      budget -= line.length + 1;
      out.push(line);
      shown += 1;
    }
    if (shown < lines.length) out.push(`- *…and ${n(lines.length - shown)} more not shown here (a comment holds 65,536 characters); \`idplane plan --git-base ${delta.base.ref} --format json\` lists them all.*`);
    out.push('', '</details>', '');
  };
  section('Users planned differently', delta.users.map((u) => `- ${mask.user(u.login)}: ${change(u.base)} → **${change(u.head)}**${u.attributes.length ? ` (${u.attributes.join(', ')})` : ''}`));
  section('Accounts planned differently', delta.accounts.map((a) => `- ${a.app} account ${mask.id(a.key)} for ${mask.user(a.login)}: ${change(a.base)} → **${change(a.head)}**${a.attributes.length ? ` (${a.attributes.join(', ')})` : ''}`));
  if (!options.unmasked) out.push('<sub>Personal data is masked; run with --show-personal-data to see it.</sub>');
  sink.write(out.join('\n') + '\n');
}
