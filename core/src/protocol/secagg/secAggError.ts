import { CanopyError, ErrorCode } from '../../util/errors.js';

/** Why a secure-aggregation step failed; stable, for logs, metrics and round results. */
export type SecAggFailure =
  /** a public or secret key that is malformed, of low order, or not the one advertised */
  | 'BAD_KEY'
  /** a share bundle that does not decrypt, or is for another round, sender or receiver */
  | 'BAD_SHARE'
  /** a masked vector of the wrong length, or from a member not in the round */
  | 'BAD_MASKED_INPUT'
  /** fewer valid shares than the threshold for some member: the sum cannot be unmasked */
  | 'BELOW_THRESHOLD'
  /** a round's parameters that cannot work (too few members, threshold out of range) */
  | 'BAD_PARAMETERS';

/**
 * A secure-aggregation step that failed. `code` is PROTOCOL_VIOLATION when a peer sent something
 * wrong, BAD_INPUT for parameters that cannot work; `failure` says which rule, and `member`, when
 * known, whose input broke it.
 */
export class SecAggError extends CanopyError {
  constructor(
    readonly failure: SecAggFailure,
    message: string,
    options?: { cause?: unknown; member?: string },
  ) {
    super(failure === 'BAD_PARAMETERS' ? ErrorCode.BadInput : ErrorCode.ProtocolViolation, message, options);
    this.member = options?.member;
  }
  readonly member: string | undefined;
}
