/**
 * Renders a plan as Terraform-style text: the counts first (by action, status and source, so users a
 * first import creates DEPROVISIONED are counted), then one block per user change with a symbol
 * (+ create/activate, ~ update/unsuspend, - deactivate/suspend), per-attribute `from → to`, then target
 * accounts, links, reviews, watermarks, warnings and conflicts; the same attribute change made to many
 * users or accounts grouped with its count; and the summary line. Each section shows at most `limit`
 * items (default 100; 0: all) and says how many it left out, so a million-user plan prints tens of
 * kilobytes; JSON and the saved plan keep everything. `narrowing` shows only the items of one user, app or
 * action (engine/narrow.ts). Reads only the plan stream, item by item, in bounded memory.
 */
import type { AccountChange, LinkChange, PlanIssue, ReviewItem, UserChange, ValueChange, WatermarkChange } from '../../schemas/generated/plan.ts';
import { needsJsonEscape } from '../../reconciler/records.ts';
import type { Sink } from '../output.ts';
import type { PlanHeader, PlanItem, PlanSource } from '../../engine/plan-stream.ts';
import { blockerTextLines, notPlannedTextLines, superAdminSentence } from './blockers.ts';
import { describeNarrowing, narrowSource, type Narrowing } from '../../engine/narrow.ts';
import { n, type Style } from './style.ts';
import { ExampleTally } from '../../reconciler/example-tally.ts';

export interface TextOptions {
  /** Items shown per section; 0 shows all. Default DEFAULT_LIMIT. */
  limit?: number;
  /** Show only the items of one user, app or action. */
  narrowing?: Narrowing | null;
}

export const DEFAULT_LIMIT = 100;
/** Groups of identical attribute changes shown, the largest first. */
const GROUPS_SHOWN = 20;
/** Distinct attribute changes remembered for grouping: beyond it, a change is counted in no group. */
const GROUPS_KEPT = 100_000;

type Action = UserChange['action'];

const SYMBOL: Record<Action, '+' | '~' | '-'> = {
  create: '+', activate: '+', update: '~', unsuspend: '~', deactivate: '-', suspend: '-',
};

export async function renderPlanText(whole: PlanSource, style: Style, sink: Sink, options: TextOptions = {}): Promise<void> {
  const { header } = whole;
  const narrowing = options.narrowing ?? null;
  const source = narrowSource(whole, narrowing);
  const limit = options.limit ?? DEFAULT_LIMIT;
  const superAdmin = superAdminSentence(header.summary, (login) => login);
  if (superAdmin) sink.write(`${style.red(style.bold(`! ${superAdmin}`))}\n\n`);
  sink.write(countLines(header, style));
  if (narrowing) sink.write(style.bold(`Showing only the changes of ${describeNarrowing(narrowing)}; the counts are the whole plan's.\n\n`));
  const groups = new ChangeGroups();
  let section: PlanItem['t'] | null = null;
  let shown = 0;
  let hidden = 0;
  // Blocks of users and accounts end with a blank line each; the line-per-item sections end with one.
  const close = () => {
    const blocks = section === 'user' || section === 'account';
    if (hidden > 0) sink.write(`${style.dim(`  … and ${n(hidden)} more ${NOUN[section!]} not shown here (--limit 0 shows all; --user, --app or --action narrows; --format json, or show --format json of a saved plan, has everything)`)}\n${blocks ? '\n' : ''}`);
    if (section !== null && !blocks && section !== 'import') sink.write('\n');
    shown = 0;
    hidden = 0;
  };
  const open = (t: PlanItem['t']) => {
    if (section === t) return;
    close();
    section = t;
    const title = titles(header, style)[t];
    if (title) sink.write(title);
  };
  for await (const batch of source.batches()) {
    for (const item of batch) {
      open(item.t);
      if (item.t === 'user' || item.t === 'account') groups.add(item);
      if (item.t !== 'import' && limit > 0 && shown >= limit) {
        hidden += 1;
        continue;
      }
      shown += 1;
      switch (item.t) {
        case 'user': sink.write(userBlock(item.v, style)); break;
        case 'account': sink.write(accountBlock(item.v, style)); break;
        case 'link': sink.write(`  ${linkLine(item.v, style)} ${style.bold(item.v.login)}\n`); break;
        case 'import': break; // counted in the summary; the values are not for review
        case 'review': sink.write(reviewLines(item.v, style)); break;
        case 'watermark': sink.write(watermarkLine(item.v)); break;
        case 'warning': sink.write(issueLines(item.v, style.yellow, '!')); break;
        case 'conflict': sink.write(issueLines(item.v, style.red, '✗')); break;
        default: {
          const never: never = item;
          throw new Error(`unknown plan item ${JSON.stringify(never)}`);
        }
      }
    }
    await sink.drain();
  }
  close();
  sink.write(groups.lines(style));
  sink.write(summaryLines(header, style));
  await sink.drain();
}

const NOUN: Record<PlanItem['t'], string> = {
  user: 'user changes', account: 'account changes', link: 'link changes', import: 'imported records', review: 'review items',
  watermark: 'watermarks', warning: 'warnings', conflict: 'conflicts',
};

/** The counts a plan opens with: each user action by status and source, then accounts by app action. */
function countLines(header: PlanHeader, style: Style): string {
  const s = header.summary;
  if (s.changes === 0) return '';
  const out: string[] = [style.bold('Changes:')];
  const rows = s.breakdown ?? [];
  for (const action of Object.keys(SYMBOL) as Action[]) {
    const mine = rows.filter((r) => r.action === action);
    if (mine.length === 0) continue;
    const total = mine.reduce((sum, r) => sum + r.count, 0);
    const byStatus = tally(mine, (r) => r.status);
    const bySource = tally(mine, (r) => r.source);
    out.push(`  ${SYMBOL[action]} ${n(total)} user(s) to ${action}: ${byStatus.map(([k, c]) => `${n(c)} ${k}`).join(', ')} (from ${bySource.map(([k, c]) => `${k} ${n(c)}`).join(', ')})`);
  }
  const a = s.accounts;
  const accounts = Object.entries(a).filter(([, c]) => c > 0);
  if (accounts.length > 0) out.push(`  accounts: ${accounts.map(([action, c]) => `${n(c)} to ${action}`).join(', ')}`);
  if (s.links.link + s.links.unlink > 0) out.push(`  links: ${n(s.links.link)} to link, ${n(s.links.unlink)} to unlink`);
  return `${out.join('\n')}\n\n`;
}

function tally<T>(rows: readonly (T & { count: number })[], key: (row: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(key(r), (counts.get(key(r)) ?? 0) + r.count);
  return [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
}

/**
 * The same attribute change (same name, same from, same to) counted over the users and accounts of a
 * plan, with a few of them named: "~ title = "Engineer" → "ENGINEER": 850 users (ada@…, bob@…, …)".
 */
class ChangeGroups {
  private readonly tally = new ExampleTally<string>(GROUPS_KEPT);

  add(item: Extract<PlanItem, { t: 'user' | 'account' }>): void {
    const attributes = item.v.attributes;
    if (!attributes) return; // a create: its whole profile, which no other create shares
    const who = item.t === 'user' ? item.v.login : `${item.v.app}/${item.v.key}`;
    const where = item.t === 'user' ? 'user' : `${item.v.app} account`;
    for (const name in attributes) {
      const change = attributes[name]!;
      const id = `${where}\u0000${name}\u0000${JSON.stringify(change.from)}\u0000${JSON.stringify(change.to)}`;
      this.tally.add(id, () => `${where === 'user' ? '' : `${where}: `}${name} = ${show(change.from)} → ${show(change.to)}`, who);
    }
  }

  lines(style: Style): string {
    const shared = this.tally.largest((a, b) => (a < b ? -1 : 1)).filter((g) => g.count > 1);
    if (shared.length === 0) return '';
    const out = [style.bold(`The same change to many (${n(shared.length)} group(s)${shared.length > GROUPS_SHOWN ? `, the ${GROUPS_SHOWN} largest shown` : ''}):`)];
    for (const g of shared.slice(0, GROUPS_SHOWN)) {
      out.push(`  ${style.yellow('~')} ${g.value}: ${n(g.count)} (${g.examples.join(', ')}${g.count > g.examples.length ? ', …' : ''})`);
    }
    return `${out.join('\n')}\n\n`;
  }
}

/** The line that opens each kind's section (users and accounts: a blank line follows each block instead). */
function titles(header: PlanHeader, style: Style): Record<PlanItem['t'], string> {
  const s = header.summary;
  return {
    user: 'idplane will perform the following actions:\n\n',
    account: 'Target accounts:\n\n',
    link: 'Account links:\n',
    import: '',
    review: `${style.yellow(`Review (${s.reviews}): these accounts wait for a decision in the config`)}\n`,
    watermark: 'Incremental imports:\n',
    warning: `${style.yellow(`Warnings (${s.warnings}):`)}\n`,
    conflict: `${style.red(`Conflicts (${s.conflicts}):`)}\n`,
  };
}

function userBlock(change: UserChange, style: Style): string {
  const symbol = SYMBOL[change.action];
  const paint = symbol === '+' ? style.green : symbol === '~' ? style.yellow : style.red;
  const status = change.status ? `: ${change.status.from} → ${change.status.to}` : change.action === 'create' ? `, ${change.after.status}` : '';
  let out = `  ${paint(symbol)} user ${style.bold(change.login)} ${style.dim(`(${change.action}${status})`)}\n${style.dim(`      # ${change.reason}`)}\n`;
  if (change.source) out += `      ${style.yellow('~')} profile source: ${change.source.from} → ${change.source.to}\n`;
  if (change.attributes) {
    const { names, padded } = layout(Object.keys(change.attributes));
    for (let i = 0; i < names.length; i++) out += `      ${attributeLine(padded[i]!, change.attributes[names[i]!]!, style)}\n`;
  } else {
    // A create sets every attribute of the new profile: `+ name = value`, without building value changes.
    const profile = change.after.profile;
    const { names, padded } = layout(Object.keys(profile));
    const plus = style.green('+');
    for (let i = 0; i < names.length; i++) out += `      ${plus} ${padded[i]} = ${show(profile[names[i]!])}\n`;
  }
  const from = change.before?.roles ?? [];
  const to = change.after.roles;
  if (from.length !== to.length || from.some((r, i) => r !== to[i])) {
    // The reason says which part of the config grants roles to this user (reconciler/plan.ts reasonFor).
    const grantor = /\b(users: or set:|users:|set:) (?:gives|entry)/.exec(change.reason)?.[1] ?? 'users: or set:';
    for (const role of to) if (!from.includes(role)) out += `      ${style.green('+')} role ${role} ${style.dim(`(${grantor} gives it)`)}\n`;
    for (const role of from) if (!to.includes(role)) out += `      ${style.red('-')} role ${role} ${style.dim(`(no ${grantor} entry grants it any more)`)}\n`;
  }
  return out + '\n';
}

/**
 * Attribute names sorted and padded to one width. Most users of a plan have the same attributes as the
 * user before them, so the last few layouts are kept and found by comparing names (property names are
 * interned: each comparison is one pointer compare).
 */
interface Layout {
  keys: string[];
  names: string[];
  padded: string[];
}
const recent: Layout[] = [];
function layout(keys: string[]): Layout {
  for (const known of recent) {
    if (known.keys.length === keys.length && known.keys.every((k, i) => k === keys[i])) return known;
  }
  const names = [...keys].sort();
  const width = Math.max(0, ...names.map((n) => n.length));
  const made = { keys, names, padded: names.map((n) => n.padEnd(width)) };
  recent.unshift(made);
  if (recent.length > 8) recent.pop();
  return made;
}

function accountBlock(a: AccountChange, style: Style): string {
  const mark = a.action === 'create' || a.action === 'enable' ? style.green('+') : a.action === 'disable' || a.action === 'delete' ? style.red('-') : style.yellow('~');
  const out = [
    `  ${mark} ${a.app} account ${style.bold(a.key)} ${style.dim(`(${a.action}${a.link && a.action !== 'link' ? ', link' : ''}) for ${a.login}`)}`,
    style.dim(`      # ${a.reason}`),
  ];
  const names = Object.keys(a.attributes).sort();
  const width = Math.max(0, ...names.map((n) => n.length));
  for (const name of names) {
    const v = a.attributes[name]!;
    out.push(`      ${attributeLine(name.padEnd(width), { from: v.from, to: v.to }, style)}`);
  }
  for (const s of a.skipped ?? []) out.push(`      ${style.yellow('!')} ${s.attribute} not written: ${s.reason}`);
  return out.join('\n') + '\n\n';
}

function reviewLines(r: ReviewItem, style: Style): string {
  return `  ? ${r.app}/${r.key}${r.line ? ` (line ${r.line})` : ''}: ${r.message}\n${style.dim(`      settle it: ${r.resolution}`)}\n`;
}

function watermarkLine(w: WatermarkChange): string {
  return `  ~ ${w.app} watermark: ${w.from ?? '(none)'} → ${w.to}\n`;
}

function summaryLines(header: PlanHeader, style: Style): string {
  const out: string[] = [];
  const s = header.summary;
  if (s.changes === 0 && s.imports === 0 && (s.heldBack ?? 0) > 0) {
    out.push(style.yellow(`No changes, but rows of ${s.heldBack === 1 ? 'a source' : `${s.heldBack} sources`} could not be read, so what they hold was not compared (see the warnings): the directory may not match the sources.`));
  } else if (s.changes === 0 && s.imports === 0 && s.conflicts > 0) {
    out.push(style.yellow(`No changes, but ${s.conflicts === 1 ? 'a conflict holds' : `${s.conflicts} conflicts hold`} something back (see above): the directory may not match the sources and the configuration.`));
  } else if (s.changes === 0 && s.imports === 0) {
    out.push(style.green('No changes. The directory matches the sources and the configuration.'));
  } else {
    const u = s.users;
      out.push(`${style.bold('Plan:')} ${n(u.create)} to create, ${n(u.update)} to update, ${n(u.activate)} to activate, ${n(u.deactivate)} to deactivate, ${n(u.suspend)} to suspend, ${n(u.unsuspend)} to unsuspend; ${n(s.links.link)} to link, ${n(s.links.unlink)} to unlink.`);
    const a = s.accounts;
    if (Object.values(a).some((c) => c > 0)) out.push(`${style.bold('Accounts:')} ${n(a.create)} to create, ${n(a.update)} to update, ${n(a.enable)} to enable, ${n(a.disable)} to disable, ${n(a.delete)} to delete, ${n(a.link)} to link.`);
    if (s.imports > 0) out.push(style.dim(`(${n(s.imports)} imported account record(s) will be stored.)`));
    if (s.outOfBand > 0) out.push(style.yellow(`${n(s.outOfBand)} attribute value(s) were changed outside idplane and will be restored from their source.`));
  }
  const tripped = header.safeguards.filter((v) => v.tripped);
  if (tripped.length > 0 && header.applyable) out.push(style.yellow(`Safeguards tripped but overridden by the config: ${tripped.length}.`));
  if (!header.applyable) {
    out.push('', style.red(style.bold('This plan cannot be applied:')));
    out.push(...blockerTextLines(header.blockers, style));
  }
  out.push(...notPlannedTextLines(header.notPlanned, style));
  return out.join('\n') + '\n';
}

function linkLine(l: LinkChange, style: Style): string {
  const mark = l.action === 'link' ? style.green('+') : style.red('-');
  return `${mark} ${l.action} ${l.app}/${l.key} ${style.dim(`# ${l.reason}`)}`;
}

function attributeLine(name: string, change: ValueChange, style: Style): string {
  const drift = change.outOfBand ? ` ${style.yellow('# changed outside idplane; restored from the source')}` : '';
  if (change.from === null) return `${style.green('+')} ${name} = ${show(change.to)}${drift}`;
  if (change.to === null) return `${style.red('-')} ${name} = ${show(change.from)} ${style.dim('→ (unset)')}${drift}`;
  return `${style.yellow('~')} ${name} = ${show(change.from)} → ${show(change.to)}${drift}`;
}

/** A value as JSON; a string that needs no escaping is quoted without JSON.stringify (half the cost). */
function show(value: unknown): string {
  return typeof value === 'string' && !needsJsonEscape(value) ? `"${value}"` : JSON.stringify(value);
}

function issueLines(i: PlanIssue, paint: (s: string) => string, mark: string): string {
  const where = [i.app, i.key !== undefined ? `key ${i.key}` : null].filter(Boolean).join(' ');
  return `  ${paint(mark)} ${where ? `${where}: ` : ''}${i.message}\n${i.resolution ? `      settle it: ${i.resolution}\n` : ''}`;
}
