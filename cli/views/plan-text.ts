/**
 * Renders a plan as Terraform-style text: one block per user change with a symbol (+ create/activate,
 * ~ update/unsuspend, - deactivate/suspend), per-attribute `from → to`, then target accounts, links,
 * reviews, watermarks, warnings, conflicts and a summary line. Reads only the plan stream, item by item,
 * so a plan of any size is rendered in constant memory.
 */
import type { AccountChange, LinkChange, PlanIssue, ReviewItem, UserChange, ValueChange, WatermarkChange } from '../../schemas/generated/plan.ts';
import { needsJsonEscape } from '../../reconciler/records.ts';
import type { Sink } from '../output.ts';
import type { PlanHeader, PlanItem, PlanSource } from '../../engine/plan-stream.ts';
import { blockerTextLines, notPlannedTextLines, superAdminSentence } from './blockers.ts';
import type { Style } from './style.ts';

type Action = UserChange['action'];

const SYMBOL: Record<Action, '+' | '~' | '-'> = {
  create: '+', activate: '+', update: '~', unsuspend: '~', deactivate: '-', suspend: '-',
};

export async function renderPlanText(source: PlanSource, style: Style, sink: Sink): Promise<void> {
  const { header } = source;
  const superAdmin = superAdminSentence(header.summary, (login) => login);
  if (superAdmin) sink.write(`${style.red(style.bold(`! ${superAdmin}`))}\n\n`);
  let section: PlanItem['t'] | null = null;
  // Blocks of users and accounts end with a blank line each; the line-per-item sections end with one.
  const close = () => {
    if (section !== null && section !== 'user' && section !== 'account' && section !== 'import') sink.write('\n');
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
  sink.write(summaryLines(header, style));
  await sink.drain();
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
    out.push(`${style.bold('Plan:')} ${u.create} to create, ${u.update} to update, ${u.activate} to activate, ${u.deactivate} to deactivate, ${u.suspend} to suspend, ${u.unsuspend} to unsuspend; ${s.links.link} to link, ${s.links.unlink} to unlink.`);
    const a = s.accounts;
    if (Object.values(a).some((n) => n > 0)) out.push(`${style.bold('Accounts:')} ${a.create} to create, ${a.update} to update, ${a.enable} to enable, ${a.disable} to disable, ${a.delete} to delete, ${a.link} to link.`);
    if (s.imports > 0) out.push(style.dim(`(${s.imports} imported account record(s) will be stored.)`));
    if (s.outOfBand > 0) out.push(style.yellow(`${s.outOfBand} attribute value(s) were changed outside idplane and will be restored from their source.`));
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
