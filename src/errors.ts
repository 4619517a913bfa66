// The errors tlr expects. Each says what went wrong and what to do; the CLI prints its message
// (never "internal error") and exits with its status. Anything else reaching the CLI is a bug.

/** An error tlr expects: its message says what went wrong and what to do. */
export class TlrError extends Error {
  /** The process's exit status when this ends a command. */
  readonly exitCode: number = 1;
  override get name(): string {
    return this.constructor.name;
  }
}

/** The command line is wrong (a flag, an argument, an environment variable): exit status 2. */
export class UsageError extends TlrError {
  override readonly exitCode: number = 2;
}
