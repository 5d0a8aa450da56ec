import * as path from 'node:path';
import { freePort, ManagedProcess, waitForHttpOk } from '@rescind/testing';
import {
  calculateJwkThumbprint,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
} from 'jose';

/** The provider's script, run with `node` as a process of its own (`oidc-provider` is ESM only). */
const PROVIDER_SCRIPT = path.join(__dirname, 'oidc-provider', 'provider.mjs');

/** An asymmetric algorithm the provider signs with. */
export type ProviderAlgorithm = 'ES256' | 'RS256';

/** A signing key of the provider, whose halves the test keeps so that it can forge tokens too. */
export interface ProviderKey {
  /** The RFC 7638 thumbprint of the public key, as many providers name their keys. */
  readonly kid: string;
  readonly alg: ProviderAlgorithm;
  readonly privateKey: CryptoKey;
  /** The public half as a JWK (`kid`, `alg`, `use: sig`), as the provider's JWKS publishes it. */
  readonly publicJwk: JWK;
  /** The public half as PEM (SPKI), what an algorithm-confusion attack "signs" with. */
  readonly publicPem: string;
  /** The private JWK handed to the provider. */
  readonly privateJwk: JWK;
}

/** Generates a provider signing key with `jose`. */
export async function providerKey(alg: ProviderAlgorithm = 'ES256'): Promise<ProviderKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const named = { kid, alg, use: 'sig' };
  return {
    kid,
    alg,
    privateKey,
    publicJwk: { ...publicJwk, ...named },
    publicPem: await exportSPKI(publicKey),
    privateJwk: { ...(await exportJWK(privateKey)), ...named },
  };
}

/** Options of {@link OidcProviderProcess.start}. */
export interface OidcProviderOptions {
  /** The one client: Rescind at the provider. */
  client: {
    id: string;
    secret: string;
    /** Where codes are sent; never followed, the code is read off the redirect. */
    redirectUri: string;
    /** OpenID Connect Back-Channel Logout 1.0 §2.2 `backchannel_logout_uri`. */
    backchannelLogoutUri: string;
  };
  /** RFC 8707 resource indicators the provider issues JWT access tokens for, with their scope. */
  resources: Record<string, { scope: string }>;
  /** Access token lifetime in seconds; within the API's `ACCESS_TOKEN_TTL`. @default 300 */
  accessTokenTtl?: number;
  /** Signing keys, the first one signs. @default one fresh ES256 key */
  keys?: readonly ProviderKey[];
  /** Echo the provider's output (debugging). @default false */
  echo?: boolean;
}

/**
 * A real OpenID provider (`oidc-provider`) in a process of its own on a free loopback port, its
 * issuer `http://127.0.0.1:<port>`. It can be restarted on the same port with another key set,
 * as a provider rotating its keys would be (its sessions are in memory: a restart forgets them).
 */
export class OidcProviderProcess {
  private constructor(
    private readonly options: OidcProviderOptions,
    readonly port: number,
    private current: ManagedProcess,
    private currentKeys: readonly ProviderKey[],
  ) {}

  /** Starts the provider and resolves once its discovery document answers. */
  static async start(options: OidcProviderOptions): Promise<OidcProviderProcess> {
    const keys = options.keys ?? [await providerKey()];
    const port = await freePort();
    const process = await spawnProvider(options, port, keys);
    const provider = new OidcProviderProcess(options, port, process, keys);
    await provider.discovered();
    return provider;
  }

  /** The issuer URL (`iss`). */
  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The keys it holds, the signing one first. */
  get keys(): readonly ProviderKey[] {
    return this.currentKeys;
  }

  /** The key it signs with. */
  get signingKey(): ProviderKey {
    return this.currentKeys[0] as ProviderKey;
  }

  /** The provider's last output lines (its errors and back-channel calls as JSON lines). */
  tail(): string {
    return this.current.tail();
  }

  /** Stops the provider and starts it again on the same port with `keys` (the first one signs). */
  async restart(keys: readonly ProviderKey[]): Promise<void> {
    await this.current.stop();
    this.currentKeys = keys;
    this.current = await spawnProvider(this.options, this.port, keys);
    await this.discovered();
  }

  /** Stops the provider (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    await this.current.stop('SIGTERM', 5_000);
  }

  private async discovered(): Promise<void> {
    const process = this.current;
    const exited = new AbortController();
    void process.exited.then(() =>
      exited.abort(new Error(`the provider exited: ${process.tail()}`)),
    );
    await waitForHttpOk(`${this.issuer}/.well-known/openid-configuration`, 10_000, exited.signal);
  }
}

function spawnProvider(
  options: OidcProviderOptions,
  port: number,
  keys: readonly ProviderKey[],
): Promise<ManagedProcess> {
  const config = {
    port,
    keys: keys.map((key) => key.privateJwk),
    client: options.client,
    resources: options.resources,
    accessTokenTtl: options.accessTokenTtl ?? 300,
  };
  return ManagedProcess.spawnNode(PROVIDER_SCRIPT, {
    name: 'oidc-provider',
    env: { OIDC_PROVIDER_CONFIG: JSON.stringify(config), NODE_ENV: 'test' },
    echo: options.echo,
  });
}
