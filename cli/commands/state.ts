/**
 * `idplane state list` and `idplane state show LOGIN`: read-only views of the stored directory. `show`
 * reads the one user by index (StateStore.readUser), never the whole directory, where the backend can.
 */
import { importedRecord } from '../../reconciler/model.ts';
import type { StateStore, UserEntry } from '../../state/types.ts';
import { IdplaneError } from '../../engine/errors.ts';
import type { Output } from '../output.ts';
import { withWorkspace } from '../../engine/workspace.ts';

export async function stateListCommand(dir: string, out: Output): Promise<number> {
  const state = await withWorkspace(dir, (ws) => ws.store.read());
  const users = [...state.users].sort((a, b) => (a.login < b.login ? -1 : a.login > b.login ? 1 : 0));
  if (out.format === 'json') {
    out.stdout(JSON.stringify({ lineage: state.lineage, serial: state.serial, users: users.map(({ id, login, status, profileSource }) => ({ id, login, status, profileSource })) }) + '\n');
    return 0;
  }
  if (users.length === 0) {
    out.stdout('The directory is empty. Run idplane plan, then idplane apply.\n');
    return 0;
  }
  const width = Math.max(5, ...users.map((u) => u.login.length));
  out.stdout(`${'LOGIN'.padEnd(width)}  ${'STATUS'.padEnd(13)}  ${'SOURCE'.padEnd(12)}  ID\n`);
  for (const u of users) out.stdout(`${u.login.padEnd(width)}  ${u.status.padEnd(13)}  ${u.profileSource.padEnd(12)}  ${u.id}\n`);
  out.stdout(out.style.dim(`${users.length} user(s), state serial ${state.serial}\n`));
  return 0;
}

/** The user and its links, by index where the backend has one, else from the whole state. */
async function findUser(store: StateStore, login: string): Promise<UserEntry | null> {
  if (store.readUser) return store.readUser(login);
  const state = await store.read();
  const user = state.users.find((u) => u.login.toLowerCase() === login.toLowerCase());
  return user ? { user, links: state.links.filter((l) => l.userId === user.id).map((l) => ({ ...l, imported: importedRecord(state.imported, l.app, l.key) ?? null })) } : null;
}

export async function stateShowCommand(dir: string, login: string, out: Output): Promise<number> {
  const found = await withWorkspace(dir, (ws) => findUser(ws.store, login));
  if (!found) throw new IdplaneError('USER_NOT_FOUND', `no user with login ${login} in the directory`);
  const { user, links } = found;
  if (out.format === 'json') {
    out.stdout(JSON.stringify({ user, links }) + '\n');
    return 0;
  }
  out.stdout(`user ${out.style.bold(user.login)}\n  id:             ${user.id}\n  status:         ${user.status}\n  profile source: ${user.profileSource}\n  roles:          ${user.roles.length ? user.roles.join(', ') : '(none)'}\n  profile:\n`);
  const names = Object.keys(user.profile).sort();
  const width = Math.max(0, ...names.map((n) => n.length));
  for (const name of names) out.stdout(`    ${name.padEnd(width)} = ${JSON.stringify(user.profile[name])}\n`);
  out.stdout('  accounts:\n');
  if (links.length === 0) out.stdout('    (none)\n');
  for (const l of links) out.stdout(`    ${l.app}/${l.key}${l.imported?.disabled ? ' (disabled at the source)' : ''}\n`);
  return 0;
}
