/**
 * Every error a user can meet is a named subclass of {@link BaseError}. The UI branches on `name` and shows
 * `shortMessage` (what happened) followed by `details` (what to do).
 */
export interface BaseErrorParameters {
  /** What to do about it, as a sentence the UI can show. */
  details?: string;
  cause?: unknown;
  /** Extra lines for logs; not shown to users. */
  metaMessages?: string[];
}

export class BaseError extends Error {
  override name = "BaseError";
  readonly shortMessage: string;
  readonly details: string;
  readonly metaMessages: string[];

  constructor(shortMessage: string, parameters: BaseErrorParameters = {}) {
    const details = parameters.details ?? "";
    const message = [shortMessage, details, ...(parameters.metaMessages ?? [])].filter(Boolean).join("\n");
    super(message, parameters.cause === undefined ? undefined : { cause: parameters.cause });
    this.shortMessage = shortMessage;
    this.details = details;
    this.metaMessages = parameters.metaMessages ?? [];
  }
}

/** The message to show a user for any thrown value. */
export function userMessage(error: unknown): string {
  if (error instanceof BaseError) return [error.shortMessage, error.details].filter(Boolean).join(" ");
  if (error instanceof Error) return error.message;
  return String(error);
}
