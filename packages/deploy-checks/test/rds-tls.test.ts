import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { Client } from 'pg';
import { REPO_ROOT } from '../src/helm';

/** The DATABASE_URL Terraform stores for each service, with sample values for its interpolations. */
function terraformDatabaseUrl(): string {
  const main = readFileSync(join(REPO_ROOT, 'terraform', 'modules', 'postgres', 'main.tf'), 'utf8');
  const template = /^\s*url\s*=\s*"(postgresql:\/\/[^"]+)"$/m.exec(main)?.[1];
  if (!template) throw new Error('terraform/modules/postgres/main.tf stores no postgresql:// url');
  const samples: Record<string, string> = {
    'each.value': 'quiz',
    'random_password.service[each.value].result': 'secret',
    'aws_db_instance.postgres.address': 'quizmesh-dev.abc123.eu-central-1.rds.amazonaws.com',
    'aws_db_instance.postgres.port': '5432',
  };
  return template.replace(/\$\{([^}]+)\}/g, (_, expression: string) => {
    const value = samples[expression];
    if (value === undefined) throw new Error(`no sample for \${${expression}}`);
    return value;
  });
}

/** What node-postgres (and so @prisma/adapter-pg, which hands it the URL) makes of the TLS part. */
function pgSsl(url: string): unknown {
  const client = new Client({ connectionString: url }) as unknown as { connectionParameters: { ssl: unknown } };
  return client.connectionParameters.ssl;
}

describe('RDS connections verify the server against the RDS CA bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quizmesh-rds-ca-'));
  const bundle = join(dir, 'rds-ca-bundle.pem');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('quizmesh-rds-ca writes the Amazon RDS root CAs of every region as one PEM bundle', () => {
    execFileSync(process.execPath, [join(REPO_ROOT, 'packages', 'platform', 'bin', 'quizmesh-rds-ca.cjs'), bundle]);
    const pems =
      readFileSync(bundle, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const subjects = pems.map((pem) => new X509Certificate(pem).subject);
    expect(subjects).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/CN=Amazon RDS eu-central-1 Root CA RSA2048 G1/),
        expect.stringMatching(/CN=Amazon RDS us-east-1 Root CA RSA2048 G1/),
      ]),
    );
    // Besides RDS's own CAs only the Starfield root that anchors the RDS Proxy chain.
    expect(subjects.filter((subject) => !subject.includes('Amazon'))).toEqual([
      expect.stringMatching(/CN=Starfield Services Root Certificate Authority - G2/),
    ]);
  });

  it('Terraform stores a DATABASE_URL that asks for verify-full against the bundle the image ships', () => {
    const url = new URL(terraformDatabaseUrl());
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
    // The path the Dockerfile's runtime stage writes (COPY --from=build /out/certs ./certs, WORKDIR /app).
    expect(url.searchParams.get('sslrootcert')).toBe('/app/certs/rds-ca-bundle.pem');
    const dockerfile = readFileSync(join(REPO_ROOT, 'services', 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('/out/certs/rds-ca-bundle.pem');
    expect(dockerfile).toContain('COPY --from=build /out/certs ./certs');
  });

  it('node-postgres turns that URL into full verification with only the RDS CAs trusted', () => {
    const url = new URL(terraformDatabaseUrl());
    url.searchParams.set('sslrootcert', bundle); // the image's path does not exist on this machine
    const ssl = pgSsl(url.toString()) as { ca?: string; rejectUnauthorized?: boolean };
    expect(typeof ssl).toBe('object');
    expect(ssl.ca).toBe(readFileSync(bundle, 'utf8'));
    expect(ssl.rejectUnauthorized).not.toBe(false);
  });

  it('the old sslmode=require URL carried no CA, so the RDS certificate could not verify', () => {
    const ssl = pgSsl('postgresql://quiz:secret@db.example.rds.amazonaws.com:5432/quiz?sslmode=require') as {
      ca?: string;
    };
    expect(ssl.ca).toBeUndefined();
  });
});
