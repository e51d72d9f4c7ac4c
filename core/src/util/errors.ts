/**
 * The closed set of error codes Canopy raises. Codes are stable: they appear in logs,
 * in metrics and in the CLI's exit messages, so never rename one.
 */
export const ErrorCode = {
  /** A file, message or blob could not be decoded or failed validation. */
  BadInput: 'BAD_INPUT',
  /** A data file is missing, truncated or corrupt. */
  BadDataFile: 'BAD_DATA_FILE',
  /** A parameter vector does not match the model it is meant for, or its checksum. */
  BadParameters: 'BAD_PARAMETERS',
  /** A manifest or scenario failed schema validation. */
  BadManifest: 'BAD_MANIFEST',
  /** A requested backend, model, aggregator or partitioner is unknown or unusable. */
  Unsupported: 'UNSUPPORTED',
  /** The operation was aborted through its AbortSignal. */
  Aborted: 'ABORTED',
  /** A protocol rule was broken by a peer. */
  ProtocolViolation: 'PROTOCOL_VIOLATION',
  /** A network operation failed. */
  Network: 'NETWORK',
  /** Consent was refused or revoked. */
  ConsentRefused: 'CONSENT_REFUSED',
  /** A wait the user bounded (say, `canopy job watch --timeout`) ran out. */
  Timeout: 'TIMEOUT',
  /** A job ended without reaching its stop condition (a failed round, a refused job, a host that could not resume). */
  JobFailed: 'JOB_FAILED',
  /** A stored file (blob, checkpoint, runtime record, receipt) failed its check on read; it was quarantined. */
  CorruptFile: 'CORRUPT_FILE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error Canopy raises on purpose. `message` is written for the user. */
export class CanopyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input (a file, message, flag or blob) that is malformed. Says what, where and how to fix it. */
export class BadInputError extends CanopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.BadInput, message, options);
  }
}

/** A dataset file that is missing, truncated or corrupt. The message names the file. */
export class DataFileError extends CanopyError {
  constructor(
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.BadDataFile, `${file}: ${problem}`, options);
  }
}

/** A parameter vector that is the wrong size, for another model, or corrupt. */
export class ParameterError extends CanopyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.BadParameters, message, options);
  }
}

/** A manifest or scenario that does not validate; `issues` lists each field's problem. */
export class ManifestError extends CanopyError {
  constructor(
    readonly source: string,
    readonly issues: readonly string[],
  ) {
    super(ErrorCode.BadManifest, `${source} is not a valid manifest:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

/** A job that ended without reaching its stop condition; the message says why (the root host's reason). */
export class JobFailedError extends CanopyError {
  constructor(
    readonly job: string,
    readonly reason: string,
  ) {
    super(ErrorCode.JobFailed, `job ${job} did not reach its stop condition: ${reason}`);
  }
}

/** A stored file that failed its check on read: moved aside to `quarantinedTo`, never used again. */
export class CorruptFileError extends CanopyError {
  constructor(
    readonly path: string,
    readonly quarantinedTo: string | null,
    readonly problem: string,
  ) {
    super(ErrorCode.CorruptFile, `${path} is corrupt (${problem}); ${quarantinedTo ? `moved aside to ${quarantinedTo}` : 'it could not be moved aside'}`);
  }
}

/** Something asked for that this build or machine does not support. */
export class UnsupportedError extends CanopyError {
  constructor(message: string) {
    super(ErrorCode.Unsupported, message);
  }
}

/** Thrown when an AbortSignal fires. */
export class AbortedError extends CanopyError {
  constructor(what = 'operation') {
    super(ErrorCode.Aborted, `${what} was aborted`);
  }
}

/** Throws {@link AbortedError} if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new AbortedError(what);
}
