/**
 * The API's closed set of error codes (STYLE.md §3, §5). Each code has one HTTP status and
 * is listed once here; the OpenAPI document and docs name the same codes. Never reuse a code
 * for a different meaning.
 */
export const API_ERROR_CODES = {
  validation_failed: 422,
  /** A request Node's HTTP parser or the router cannot read (a malformed request line, a URL that does not decode). */
  bad_request: 400,
  /** A CORS preflight from an origin that is not allowed. */
  origin_not_allowed: 403,
  /** CONNECT (this is not a proxy). */
  method_not_allowed: 405,
  /** The request did not arrive within the request timeout. */
  request_timeout: 408,
  /** The request headers exceed Node's limit. */
  headers_too_large: 431,
  not_found: 404,
  shop_not_found: 404,
  session_not_found: 404,
  router_disabled: 503,
  /** The database cannot be reached for a moment (a restart, a failover): retry after Retry-After. */
  unavailable: 503,
  rate_limited: 429,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  internal: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_CODES;

export interface FieldProblem {
  field: string;
  message: string;
}

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; fields?: FieldProblem[] };
}

/** An error a route throws on purpose; the error handler renders it as `{error:{code,message,fields}}`. */
export class HttpError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly fields?: FieldProblem[],
  ) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = API_ERROR_CODES[code];
  }
}

export function errorBody(code: ApiErrorCode, message: string, fields?: FieldProblem[]): ApiErrorBody {
  return { error: fields && fields.length > 0 ? { code, message, fields } : { code, message } };
}
