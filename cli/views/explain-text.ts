/**
 * An explanation (engine/runs/explain.ts) as text: the profile source and why, each account and how it
 * was linked, the status and the lifecycle rule behind it, then each attribute with its value (and what
 * the next apply makes it), where it comes from, and the run that last changed it.
 */
import type { ExplainResult, LastChange } from '../../engine/runs/explain.ts';

const show = (v: unknown) => (v === null || v === undefined ? '(unset)' : JSON.stringify(v));

function lastLine(last: LastChange | null | undefined): string {
  if (!last) return 'never changed by a recorded run';
  return `last changed ${last.at} by ${last.command} (${last.who}${last.gitCommit ? `, config git ${last.gitCommit.slice(0, 12)}` : ''})`;
}

export function renderExplainText(e: ExplainResult, attribute: string | undefined): string {
  const lines: string[] = [`${e.login} (id ${e.id})`, ''];
  if (attribute === undefined) {
    lines.push(`Profile source: ${e.source.app}: ${e.source.why}.`);
    for (const a of e.accounts) lines.push(`  account ${a.app}/${a.key}: ${a.how}`);
    lines.push('');
  }
  if (attribute === undefined || attribute === 'status') {
    const next = e.status.now === e.status.next ? e.status.next : `${e.status.now ?? '(new)'} → ${e.status.next} at the next apply`;
    lines.push(`status: ${next}${e.status.rule ? `; ${e.status.rule}` : ''}${e.status.blocked ? `; ${e.status.blocked}` : ''}`, `  ${lastLine(e.status.lastChanged)}`, '');
  }
  for (const a of e.attributes) {
    const value = a.stored !== undefined ? `${show(a.stored)} → ${show(a.value)} at the next apply` : show(a.value);
    lines.push(`${a.name}: ${value}`);
    switch (a.from) {
      case 'mapping': {
        const inputs = Object.entries(a.inputs).map(([k, v]) => `app.${k} = ${show(v)}`).join(', ');
        lines.push(`  from ${a.app} account ${a.key}${a.attributeSourced ? ` (directory.attributes.${a.name}.source: ${a.app})` : ''}, mapping ${a.expression}${inputs ? `, reading ${inputs}` : ''}`);
        break;
      }
      case 'unmapped': lines.push(`  ${a.app} decides it but ${a.key === null ? `has no account linked to this user` : 'does not map it'}: the stored value stays`); break;
      case 'declared': lines.push('  from users: in the config'); break;
      case 'set': lines.push('  from set: in the config (source: directory)'); break;
      case 'directory': lines.push('  kept in the directory (source: directory, or a user no source feeds)'); break;
      default: {
        const never: never = a.from;
        throw new Error(`unknown provenance ${String(never)}`);
      }
    }
    lines.push(`  ${lastLine(a.lastChanged)}`);
  }
  if (e.conflicts.length > 0) lines.push('', 'Conflicts that stop this user\'s change:', ...e.conflicts.map((c) => `  - ${c}`));
  return lines.join('\n') + '\n';
}
