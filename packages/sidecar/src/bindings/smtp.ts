/**
 * `bindings.smtp` (operation `create`). It sends to `host`:`port` through nodemailer like contrib;
 * with `mailboxPath` (a local extension, ignored by daprd) it is a local mailbox instead: each
 * message is rendered by nodemailer into an RFC 5322 `.eml` file, written atomically (temp file +
 * rename).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Transporter } from 'nodemailer';
import type { OutputBinding, OutputBindingRequest, OutputBindingResponse } from './binding';

const importNodemailer = () => import('nodemailer');
type Nodemailer = Awaited<ReturnType<typeof importNodemailer>>['default'];

export interface SmtpOptions {
  host: string;
  port: number;
  user: string | undefined;
  password: string | undefined;
  skipTLSVerify: boolean;
  mailboxPath: string | undefined;
  defaults: Record<string, string>;
}

const OVERRIDABLE = ['emailFrom', 'emailTo', 'emailCC', 'emailBCC', 'subject', 'priority'] as const;

function addresses(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value
    .split(';')
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

export class SmtpBinding implements OutputBinding {
  readonly operations = ['create'];
  private readonly transport: Transporter;
  private readonly mailbox: string | undefined;

  /**
   * nodemailer is loaded here, when a component declares the binding, so a sidecar without one
   * never loads it (decision 0880); once loaded, creating more bindings is synchronous.
   */
  static async create(options: SmtpOptions): Promise<SmtpBinding> {
    const { default: nodemailer } = await importNodemailer();
    return new SmtpBinding(options, nodemailer);
  }

  private constructor(
    private readonly options: SmtpOptions,
    nodemailer: Nodemailer,
  ) {
    if (options.mailboxPath === undefined) {
      this.transport = nodemailer.createTransport({
        host: options.host,
        port: options.port,
        secure: options.port === 465,
        auth: options.user !== undefined ? { user: options.user, pass: options.password ?? '' } : undefined,
        tls: { rejectUnauthorized: !options.skipTLSVerify },
      });
      this.mailbox = undefined;
    } else {
      this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
      this.mailbox = resolve(options.mailboxPath);
      mkdirSync(this.mailbox, { recursive: true });
    }
  }

  async invoke(req: OutputBindingRequest): Promise<OutputBindingResponse> {
    const fields: Record<string, string> = { ...this.options.defaults };
    for (const key of OVERRIDABLE) {
      const override = req.metadata[key];
      if (override !== undefined && override !== '') fields[key] = override;
    }
    const from = fields.emailFrom;
    const to = addresses(fields.emailTo);
    const subject = fields.subject;
    if (from === undefined || from === '')
      throw new Error('smtp binding error: emailFrom property not supplied in configuration- or request-metadata');
    if (to === undefined)
      throw new Error('smtp binding error: emailTo property not supplied in configuration- or request-metadata');
    if (subject === undefined || subject === '')
      throw new Error('smtp binding error: subject property not supplied in configuration- or request-metadata');
    const priority = Number(fields.priority ?? '3');
    if (!Number.isInteger(priority) || priority < 1 || priority > 5)
      throw new Error(`smtp binding error: priority must be 1-5, got "${fields.priority ?? ''}"`);
    const body =
      typeof req.data === 'string'
        ? req.data
        : req.data === undefined || req.data === null
          ? ''
          : JSON.stringify(req.data);
    const info: unknown = await this.transport.sendMail({
      from,
      to,
      cc: addresses(fields.emailCC),
      bcc: addresses(fields.emailBCC),
      subject,
      html: body,
      headers: { 'X-Priority': String(priority) },
    });
    if (this.mailbox !== undefined) {
      const message =
        typeof info === 'object' && info !== null && 'message' in info && Buffer.isBuffer(info.message)
          ? info.message
          : undefined;
      if (!message) throw new Error('smtp binding error: nodemailer did not render the message');
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`;
      const temp = join(this.mailbox, `.${name}.tmp`);
      await writeFile(temp, message);
      await rename(temp, join(this.mailbox, name));
    }
    return {};
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
