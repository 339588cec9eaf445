/**
 * The idplane command line. Parses arguments with commander, picks the output format once, runs one
 * command and turns its outcome, or its error, into an exit code. This is the only place that catches.
 * Each command's module is imported when its action runs, so a run loads only the code (and the
 * libraries) it uses: `idplane --version` loads commander and nothing else of weight.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { durationMs } from '../engine/duration.ts';
import { UsageError } from '../engine/errors.ts';
import { createOutput, reportError, type Format, type Output } from './output.ts';
import { VERSION } from '../engine/version.ts';

/** The format is read before parsing so that even argument errors come out in it. */
function sniffFormat(argv: string[]): Format {
  const i = argv.findIndex((a) => a === '--format' || a.startsWith('--format='));
  if (i < 0) return 'text';
  const value = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  return value === 'json' ? 'json' : value === 'markdown' ? 'markdown' : 'text';
}

/** "30s", "2m", "500ms" or plain seconds, as milliseconds. */
function parseDuration(value: string): number {
  const ms = durationMs(value);
  if (ms === null) throw new InvalidArgumentError(`expected a duration such as 30s, 2m or 500ms, got ${JSON.stringify(value)}`);
  return ms;
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
  return n;
}

function nonNegativeInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number (0: no limit)`);
  return n;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('jit reads the account as a JSON object on stdin, for example: echo \'{"id":"42","email":"a@example.com"}\' | idplane jit APP');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function main(argv: string[]): Promise<number> {
  const out = createOutput(sniffFormat(argv));
  let exitCode = 0;
  const run = (fn: (dir: string, out: Output) => Promise<number>) => async () => {
    exitCode = await fn(program.opts<{ dir: string }>().dir, out);
  };
  const format = () => new Option('--format <format>', 'output format').choices(['text', 'json']).default('text');
  const planFormat = () => new Option('--format <format>', 'output format (markdown: for pull-request comments, personal data masked)').choices(['text', 'json', 'markdown']).default('text');

  const program = new Command('idplane')
    .description('Identity provisioning as code: plan and apply imports from HR and directories into idplane\'s directory.')
    .version(VERSION, '-v, --version')
    .option('-C, --dir <dir>', 'run as if started in DIR (where idplane.yaml is); relative paths given to commands are found there too', '.')
    .showHelpAfterError('(run idplane --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => out.stdout(s),
      writeErr: (s) => { if (out.format === 'text') out.stderr(s); },
      outputError: (s, write) => { if (out.format === 'text') write(s); },
    });

  program.command('validate').description('check the configuration and report every problem with file:line:col')
    .addOption(format())
    .action(run(async (dir) => (await import('./commands/validate.ts')).validateCommand(dir, out)));

  program.command('plan').description('show every user and attribute that apply would change')
    .addOption(planFormat())
    .option('--out <file>', 'save the plan so that `apply FILE` carries out exactly this plan')
    .option('--detailed-exitcode', 'exit 0 when there is nothing to do, 2 when there are changes or unreadable rows held something back (3: the plan cannot be applied; 1: an error)')
    .option('--show-personal-data', 'markdown: show logins and values instead of masking them')
    .option('--git-base <ref>', 'show how this plan differs from the plan of the config at this git commit, branch or tag (a pull request\'s delta)')
    .option('--user <login>', 'show only the changes of this user (the saved plan keeps everything)')
    .option('--app <app>', 'show only the changes of this app: its accounts, links and records, and the users it sources')
    .option('--action <action>', 'show only the changes with this action (create, update, deactivate, disable, link, …)')
    .option('--limit <n>', 'text: show at most N items per section (default 100; 0 shows all)', (v) => nonNegativeInt(v, '--limit'))
    .action(async (options: { out?: string; detailedExitcode?: boolean; showPersonalData?: boolean; gitBase?: string; user?: string; app?: string; action?: string; limit?: number }) => {
      const { planCommand } = await import('./commands/plan.ts');
      exitCode = await planCommand(program.opts<{ dir: string }>().dir, options, out);
    });

  program.command('apply').description('carry out a saved plan, or plan and ask for confirmation')
    .argument('[planfile]', 'a plan saved with `plan --out`')
    .addOption(planFormat())
    .option('--dry-run', 'with a plan file: check it against the data of now as apply would (reviewed effect, data changes since, refused) and write nothing; takes no lock, so read-only state credentials do (markdown: for a CI job summary)')
    .option('--auto-approve', 'apply without asking (needed when there is no terminal and no plan file)')
    .option('--allow-mass-change', 'apply even though a safeguard tripped (conflicts still block)')
    .option('--allow-policy <name>', 'apply even though this plan policy is broken; repeat for each (conflicts still block)', (name: string, names: string[] = []) => [...names, name])
    .option('--lock-timeout <duration>', 'wait this long for a lock another run holds (e.g. 30s, 2m); default: fail fast', parseDuration)
    .action(async (planfile: string | undefined, options: { autoApprove?: boolean; allowMassChange?: boolean; allowPolicy?: string[]; lockTimeout?: number; dryRun?: boolean }) => {
      const { applyCommand } = await import('./commands/apply.ts');
      const { allowPolicy, ...rest } = options;
      exitCode = await applyCommand(program.opts<{ dir: string }>().dir, planfile, { ...rest, ...(allowPolicy ? { allowPolicies: allowPolicy } : {}), lockTimeoutMs: options.lockTimeout ?? 0 }, out);
    });

  program.command('show').description('render a saved plan')
    .argument('<planfile>', 'a plan saved with `plan --out`')
    .addOption(planFormat())
    .option('--show-personal-data', 'markdown: show logins and values instead of masking them')
    .option('--user <login>', 'show only the changes of this user')
    .option('--app <app>', 'show only the changes of this app: its accounts, links and records, and the users it sources')
    .option('--action <action>', 'show only the changes with this action (create, update, deactivate, disable, link, …)')
    .option('--limit <n>', 'text: show at most N items per section (default 100; 0 shows all)', (v) => nonNegativeInt(v, '--limit'))
    .action(async (planfile: string, options: { showPersonalData?: boolean; user?: string; app?: string; action?: string; limit?: number }) => {
      const { showCommand } = await import('./commands/plan.ts');
      exitCode = await showCommand(program.opts<{ dir: string }>().dir, planfile, options, out);
    });

  program.command('jit').description('create or update one user now from one account\'s attributes (JSON on stdin)')
    .argument('<app>', 'the import app the account comes from')
    .addOption(format())
    .option('--lock-timeout <duration>', 'wait this long for a lock another run holds (e.g. 30s)', parseDuration)
    .action(async (app: string, options: { lockTimeout?: number }) => {
      const { jitCommand } = await import('./commands/jit.ts');
      exitCode = await jitCommand(program.opts<{ dir: string }>().dir, app, await readStdin(), { lockTimeoutMs: options.lockTimeout ?? 0 }, out);
    });

  program.command('serve').description('run JIT requests (POST /jit/APP), the apps\' scheduled imports, /healthz and /metrics until SIGTERM')
    .option('--listen <host:port>', 'where to listen (default: serve.listen, else 127.0.0.1:8080; port 0 takes a free one)')
    .action(async (options: { listen?: string }) => {
      const { serveCommand } = await import('./commands/serve.ts');
      exitCode = await serveCommand(program.opts<{ dir: string }>().dir, options, out);
    });

  program.command('drift').description('report what changed behind idplane\'s back; exit 0 none, 2 drift, 1 error')
    .addOption(planFormat())
    .option('--show-personal-data', 'markdown: show logins and keys instead of masking them')
    .action(async (options: { showPersonalData?: boolean }) => {
      const { driftCommand } = await import('./commands/drift.ts');
      exitCode = await driftCommand(program.opts<{ dir: string }>().dir, options, out);
    });

  program.command('history').description('the runs recorded in the state and their changes; with LOGIN, only that user')
    .argument('[login]', 'a user\'s login')
    .addOption(format())
    .option('--limit <n>', 'how many runs (most recent first)', (v) => positiveInt(v, '--limit'), 20)
    .option('--since <time>', 'only runs started at or after TIME: an ISO date or time (2026-11-24, 2026-11-24T09:00Z) or a duration back from now (24h, 7d)')
    .option('--changes', 'list every change of the runs shown, one per line (by default each run is summed up by its counts)')
    .option('--app <app>', 'only changes of this app (its accounts and links), and the runs that made them')
    .option('--action <action>', 'only changes with this action (create, update, deactivate, disable, link, …), and the runs that made them')
    .action(async (login: string | undefined, options: { limit: number; since?: string; changes?: boolean; app?: string; action?: string }) => {
      const { historyCommand } = await import('./commands/history.ts');
      exitCode = await historyCommand(program.opts<{ dir: string }>().dir, login, options, out);
    });

  program.command('force-unlock').description('release a lock left behind by a run that is gone')
    .argument('<id>', 'the lock id, as the lock error named it')
    .addOption(format())
    .action(async (id: string) => {
      const { forceUnlockCommand } = await import('./commands/force-unlock.ts');
      exitCode = await forceUnlockCommand(program.opts<{ dir: string }>().dir, id, out);
    });

  const schema = program.command('schema').description('work with the apps\' schemas');
  schema.command('discover').description('print YAML attribute declarations and mappings for what an app reports')
    .argument('<app>', 'the app to ask')
    .addOption(format())
    .action(async (app: string) => {
      const { schemaDiscoverCommand } = await import('./commands/schema.ts');
      exitCode = await schemaDiscoverCommand(program.opts<{ dir: string }>().dir, app, out);
    });

  const state = program.command('state').description('inspect the stored directory, move it to PostgreSQL, or restore its previous generation');
  state.command('list').description('list every user: login, status, profile source, id')
    .addOption(format())
    .action(run(async (dir) => (await import('./commands/state.ts')).stateListCommand(dir, out)));
  state.command('migrate').description('copy an embedded state into the backend the config names (e.g. PostgreSQL)')
    .requiredOption('--from-embedded <dir>', 'the embedded state folder, relative to the config', '.idplane')
    .addOption(format())
    .action(async (options: { fromEmbedded: string }) => {
      const { migrateCommand } = await import('./commands/migrate.ts');
      exitCode = await migrateCommand(program.opts<{ dir: string }>().dir, options.fromEmbedded, out);
    });
  state.command('restore').description('put back the previous generation of the embedded state (state.db.backup), e.g. after damage')
    .addOption(format())
    .option('--lock-timeout <duration>', 'wait this long for a lock another run holds (e.g. 30s)', parseDuration)
    .action(async (options: { lockTimeout?: number }) => {
      const { stateRestoreCommand } = await import('./commands/state-restore.ts');
      exitCode = await stateRestoreCommand(program.opts<{ dir: string }>().dir, { lockTimeoutMs: options.lockTimeout ?? 0 }, out);
    });
  program.command('explain').description('where a user\'s values come from: source, account, mapping and inputs, lifecycle rule, and the run that last changed each')
    .argument('<login>', 'the user\'s login')
    .argument('[attribute]', 'only this attribute (or status)')
    .addOption(format())
    .action(async (login: string, attribute: string | undefined) => {
      const { explainCommand } = await import('./commands/explain.ts');
      exitCode = await explainCommand(program.opts<{ dir: string }>().dir, login, attribute, out);
    });

  state.command('show').description('show one user with their profile and linked accounts')
    .argument('<login>', 'the user\'s login')
    .addOption(format())
    .action(async (login: string) => {
      const { stateShowCommand } = await import('./commands/state.ts');
      exitCode = await stateShowCommand(program.opts<{ dir: string }>().dir, login, out);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      if (out.format === 'json') return reportError(out, new UsageError(error.message.replace(/^error: /, '')));
      return 1;
    }
    return reportError(out, error);
  }
}
