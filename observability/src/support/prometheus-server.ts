import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort, ManagedProcess, waitFor } from '@rescind/testing';
import { PROMETHEUS_INSTALL, requiredTool } from './required-tool';

/** The body of every Prometheus HTTP API answer. */
interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

/**
 * A real `prometheus` process on a free loopback port, with its own data directory, running the
 * given configuration (written next to copies of `files`, so relative rule paths resolve).
 */
export class PrometheusServer {
  private constructor(
    readonly url: string,
    private readonly process: ManagedProcess,
    private readonly dir: string,
  ) {}

  /** Starts Prometheus and waits until it reports ready. */
  static async start(config: string, files: readonly string[]): Promise<PrometheusServer> {
    const binary = requiredTool('prometheus', PROMETHEUS_INSTALL);
    const dir = mkdtempSync(path.join(tmpdir(), 'rescind-prometheus-'));
    for (const file of files) copyFileSync(file, path.join(dir, path.basename(file)));
    writeFileSync(path.join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    const process = await ManagedProcess.spawn(binary, [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, process, dir);
    try {
      await waitFor(
        async () => {
          if (!process.running) {
            throw new Error(`prometheus exited; last output:\n${process.tail()}`);
          }
          return (await fetch(`${server.url}/-/ready`)).ok;
        },
        { timeoutMs: 30_000, intervalMs: 100, description: 'prometheus to be ready' },
      );
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** `GET /api/v1/<endpoint>`; throws with Prometheus's error when the answer is not a success. */
  async api<T>(endpoint: string, params: Record<string, string> = {}): Promise<T> {
    const response = await fetch(`${this.url}/api/v1/${endpoint}?${new URLSearchParams(params)}`);
    const answer = (await response.json()) as ApiAnswer<T>;
    if (answer.status !== 'success') {
      throw new Error(`${endpoint} ${JSON.stringify(params)}: ${answer.error ?? response.status}`);
    }
    return answer.data;
  }

  /** Stops the process and removes its directory. */
  async stop(): Promise<void> {
    try {
      await this.process.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
