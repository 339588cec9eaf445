/**
 * The CLI's error classes. Each carries a stable code; only the entry point catches them and turns them
 * into messages and exit codes. Anything else reaching the entry point is an internal error.
 */
import type { ConfigProblem } from '../engine/config/problems.ts';

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, message: string, exitCode = 1) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
  }
}

export class ConfigError extends CliError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], message?: string) {
    const errors = problems.filter((p) => p.severity === 'error').length;
    super('CONFIG_INVALID', message ?? `the configuration has ${errors} error(s)`);
    this.problems = problems;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
