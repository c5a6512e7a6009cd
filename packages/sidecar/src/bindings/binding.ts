export interface OutputBindingRequest {
  operation: string;
  /** `data` as the app sent it (parsed JSON) */
  data: unknown;
  metadata: Record<string, string>;
}

export interface OutputBindingResponse {
  data?: Buffer;
  metadata?: Record<string, string>;
}

export interface OutputBinding {
  readonly operations: string[];
  invoke(req: OutputBindingRequest): Promise<OutputBindingResponse>;
  close(): Promise<void>;
}

export interface InputBinding {
  /** Starts triggering; each trigger awaits `deliver`. */
  start(deliver: (data: Buffer, headers: Record<string, string>) => Promise<void>): void;
  close(): Promise<void>;
}
