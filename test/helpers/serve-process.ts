import { type ChildProcess, spawn } from 'node:child_process';
import { cliArgs } from './cli.js';

// `tlr serve` as a child process on a free port, for tests that talk to it as clients do: its base URL once it
// says where it listens, its stdout (the access log), and a SIGTERM stop that resolves with its exit code.

export class ServeProcess {
  private child: ChildProcess | null = null;
  stdout = '';

  /** Starts `tlr serve MODELS... --port 0 EXTRA...`; resolves with the base URL once `first` is served. */
  start(models: readonly string[], extra: readonly string[] = [], first = 'tiny'): Promise<string> {
    this.stdout = '';
    const child = spawn(process.execPath, [...cliArgs(), 'serve', ...models, '--port', '0', ...extra], {
      env: { ...process.env, TLR_WORKERS: '0' },
    });
    this.child = child;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    return new Promise((resolve, reject) => {
      let err = '';
      const at = new RegExp(`at (http://127\\.0\\.0\\.1:\\d+)/v2/models/${first}`);
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        err += d;
        const m = at.exec(err);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`tlr serve exited ${code}: ${err}`)));
    });
  }

  /** Stops the server with SIGTERM; its exit code (null when none was running). */
  stop(): Promise<number | null> {
    const s = this.child;
    if (!s) return Promise.resolve(null);
    this.child = null;
    return new Promise((done) => {
      s.removeAllListeners('exit');
      s.on('exit', (code) => done(code));
      s.kill('SIGTERM');
    });
  }

  get running(): boolean {
    return this.child !== null;
  }
}
