/**
 * Renders a plan as Terraform-style text: one block per user change with a symbol (+ create/activate,
 * ~ update/unsuspend, - deactivate/suspend), per-attribute `from → to`, then links, reviews, warnings,
 * conflicts and a summary line. Reads only the plan document.
 */
import type { Plan, PlanIssue, UserChange, ValueChange } from '../../schemas/generated/plan.ts';
import type { Style } from './style.ts';

type Action = UserChange['action'];

const SYMBOL: Record<Action, '+' | '~' | '-'> = {
  create: '+', activate: '+', update: '~', unsuspend: '~', deactivate: '-', suspend: '-',
};

export function renderPlanText(plan: Plan, style: Style): string {
  const out: string[] = [];
  const colour = (action: Action) => (SYMBOL[action] === '+' ? style.green : SYMBOL[action] === '~' ? style.yellow : style.red);

  const linksByUser = new Map<string, Plan['links']>();
  for (const l of plan.links) {
    const list = linksByUser.get(l.userId);
    if (list) list.push(l);
    else linksByUser.set(l.userId, [l]);
  }
  if (plan.users.length > 0) {
    out.push('idplane will perform the following actions:', '');
    for (const change of plan.users) {
      const paint = colour(change.action);
      const status = change.status ? `: ${change.status.from} → ${change.status.to}` : change.action === 'create' ? `, ${change.after.status}` : '';
      out.push(`  ${paint(SYMBOL[change.action])} user ${style.bold(change.login)} ${style.dim(`(${change.action}${status})`)}`);
      out.push(style.dim(`      # ${change.reason}`));
      if (change.source) out.push(`      ${style.yellow('~')} profile source: ${change.source.from} → ${change.source.to}`);
      const names = Object.keys(change.attributes).sort();
      const width = Math.max(0, ...names.map((n) => n.length));
      for (const name of names) out.push(`      ${attributeLine(name.padEnd(width), change.attributes[name]!, style)}`);
      const roles = { from: change.before?.roles ?? [], to: change.after.roles };
      if (roles.from.join() !== roles.to.join()) out.push(`      ${style.yellow('~')} roles: [${roles.from.join(', ')}] → [${roles.to.join(', ')}]`);
      for (const l of linksByUser.get(change.id) ?? []) out.push(`      ${linkLine(l, style)}`);
      linksByUser.delete(change.id);
      out.push('');
    }
  }
  if (plan.accounts.length > 0) {
    out.push('Target accounts:', '');
    for (const a of plan.accounts) {
      const mark = a.action === 'create' || a.action === 'enable' ? style.green('+') : a.action === 'disable' || a.action === 'delete' ? style.red('-') : style.yellow('~');
      out.push(`  ${mark} ${a.app} account ${style.bold(a.key)} ${style.dim(`(${a.action}${a.link && a.action !== 'link' ? ', link' : ''}) for ${a.login}`)}`);
      out.push(style.dim(`      # ${a.reason}`));
      const names = Object.keys(a.attributes).sort();
      const width = Math.max(0, ...names.map((n) => n.length));
      for (const name of names) {
        const v = a.attributes[name]!;
        out.push(`      ${attributeLine(name.padEnd(width), { from: v.from, to: v.to }, style)}`);
      }
      for (const s of a.skipped ?? []) out.push(`      ${style.yellow('!')} ${s.attribute} not written: ${s.reason}`);
      out.push('');
    }
  }
  const links = [...linksByUser.values()].flat();
  if (links.length > 0) {
    out.push('Account links:');
    for (const l of links) out.push(`  ${linkLine(l, style)} ${style.bold(l.login)}`);
    out.push('');
  }
  if (plan.reviews.length > 0) {
    out.push(style.yellow(`Review (${plan.reviews.length}): these accounts wait for a decision in the config`));
    for (const r of plan.reviews) {
      out.push(`  ? ${r.app}/${r.key}${r.line ? ` (line ${r.line})` : ''}: ${r.message}`);
      out.push(style.dim(`      settle it: ${r.resolution}`));
    }
    out.push('');
  }
  if (plan.watermarks.length > 0) {
    out.push('Incremental imports:');
    for (const w of plan.watermarks) out.push(`  ~ ${w.app} watermark: ${w.from ?? '(none)'} → ${w.to}`);
    out.push('');
  }
  issueBlock(out, 'Warnings', plan.warnings, style.yellow, '!');
  issueBlock(out, 'Conflicts', plan.conflicts, style.red, '✗');

  const s = plan.summary;
  if (s.changes === 0 && s.imports === 0) {
    out.push(style.green('No changes. The directory matches the sources and the configuration.'));
  } else {
    const u = s.users;
    out.push(`${style.bold('Plan:')} ${u.create} to create, ${u.update} to update, ${u.activate} to activate, ${u.deactivate} to deactivate, ${u.suspend} to suspend, ${u.unsuspend} to unsuspend; ${s.links.link} to link, ${s.links.unlink} to unlink.`);
    const a = s.accounts;
    if (plan.accounts.length > 0) out.push(`${style.bold('Accounts:')} ${a.create} to create, ${a.update} to update, ${a.enable} to enable, ${a.disable} to disable, ${a.delete} to delete, ${a.link} to link.`);
    if (s.imports > 0) out.push(style.dim(`(${s.imports} imported account record(s) will be stored.)`));
    if (s.outOfBand > 0) out.push(style.yellow(`${s.outOfBand} attribute value(s) were changed outside idplane and will be restored from their source.`));
  }
  const tripped = plan.safeguards.filter((v) => v.tripped);
  if (tripped.length > 0 && plan.applyable) out.push(style.yellow(`Safeguards tripped but overridden by the config: ${tripped.length}.`));
  if (!plan.applyable) {
    out.push('', style.red(style.bold('This plan cannot be applied:')));
    for (const b of plan.blockers) out.push(style.red(`  - ${b.code === 'safeguard' ? 'SAFEGUARD: ' : ''}${b.message}`));
  }
  return out.join('\n') + '\n';
}

function linkLine(l: Plan['links'][number], style: Style): string {
  const mark = l.action === 'link' ? style.green('+') : style.red('-');
  return `${mark} ${l.action} ${l.app}/${l.key} ${style.dim(`# ${l.reason}`)}`;
}

function attributeLine(name: string, change: ValueChange, style: Style): string {
  const drift = change.outOfBand ? ` ${style.yellow('# changed outside idplane; restored from the source')}` : '';
  if (change.from === null) return `${style.green('+')} ${name} = ${show(change.to)}${drift}`;
  if (change.to === null) return `${style.red('-')} ${name} = ${show(change.from)} ${style.dim('→ (unset)')}${drift}`;
  return `${style.yellow('~')} ${name} = ${show(change.from)} → ${show(change.to)}${drift}`;
}

function show(value: unknown): string {
  return JSON.stringify(value);
}

function issueBlock(out: string[], title: string, issues: PlanIssue[], paint: (s: string) => string, mark: string): void {
  if (issues.length === 0) return;
  out.push(paint(`${title} (${issues.length}):`));
  for (const i of issues) {
    const where = [i.app, i.key !== undefined ? `key ${i.key}` : null].filter(Boolean).join(' ');
    out.push(`  ${paint(mark)} ${where ? `${where}: ` : ''}${i.message}`);
    if (i.resolution) out.push(`      settle it: ${i.resolution}`);
  }
  out.push('');
}
