/**
 * Every request and response JSON schema of the API, in one place. Routes validate with them,
 * fast-json-stringify serialises with them, and the OpenAPI document (openapi/) must describe
 * exactly these shapes — a test checks the two agree.
 */
import { API_ERROR_CODES } from './errors.js';

export const SEARCH_DEFAULT_RADIUS_MILES = 10;
export const SEARCH_MAX_RADIUS_MILES = 50;
export const SEARCH_DEFAULT_LIMIT = 20;
export const SEARCH_MAX_LIMIT = 50;
export const CHAT_MAX_MESSAGE_LENGTH = 2000;
export const IDEMPOTENCY_KEY_MAX_LENGTH = 200;

// A pattern as well as the format: ajv's uuid format also accepts "urn:uuid:…", which PostgreSQL rejects.
const uuid = { type: 'string', format: 'uuid', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' } as const;
/** PostgreSQL text cannot hold NUL; reject it at the edge rather than as a 500 from the driver. */
const NO_NUL = '^[^\\x00]*$';
const nullableString = { type: ['string', 'null'] } as const;

/** The one error body every 4xx/5xx (other than /health's 503) uses. */
export const errorBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(API_ERROR_CODES) },
        message: { type: 'string' },
        fields: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['field', 'message'],
            properties: { field: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;

// --- /health -------------------------------------------------------------------------------
export const healthResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['ok', 'database', 'router_enabled', 'version'],
  properties: {
    ok: { type: 'boolean' },
    database: { type: 'string', enum: ['ok', 'unreachable'] },
    router_enabled: { type: 'boolean' },
    reason: { type: 'string' },
    /** The release the server runs: ROUTERGPT_RELEASE, else the package version. */
    version: { type: 'string' },
    /** Absent when the migrations table could not be read (the database is unreachable). */
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['applied', 'expected', 'ahead'],
      properties: {
        applied: nullableString,
        expected: nullableString,
        ahead: { type: 'boolean' },
      },
    },
    rate_limits: {
      type: 'object',
      additionalProperties: false,
      required: ['store', 'redis'],
      properties: {
        store: { type: 'string', enum: ['memory', 'redis'] },
        redis: { type: 'string', enum: ['ok', 'unreachable', 'not-configured'] },
        lastError: { type: 'string' },
        since: { type: 'string' },
      },
    },
  },
} as const;

// --- POST /router/search-by-location --------------------------------------------------------
export const searchBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['latitude', 'longitude'],
  properties: {
    latitude: { type: 'number', minimum: -90, maximum: 90, description: 'Latitude in decimal degrees (WGS 84).' },
    longitude: { type: 'number', minimum: -180, maximum: 180, description: 'Longitude in decimal degrees (WGS 84).' },
    radius_miles: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: SEARCH_MAX_RADIUS_MILES,
      default: SEARCH_DEFAULT_RADIUS_MILES,
      description: `Search radius in miles, greater than 0 and at most ${SEARCH_MAX_RADIUS_MILES}.`,
    },
    category: { type: 'string', minLength: 1, maxLength: 64, pattern: NO_NUL, description: 'Shop category, e.g. barbershop, salon (case-insensitive).' },
    limit: { type: 'integer', minimum: 1, maximum: SEARCH_MAX_LIMIT, default: SEARCH_DEFAULT_LIMIT },
  },
} as const;

export interface SearchBody {
  latitude: number;
  longitude: number;
  radius_miles: number;
  category?: string;
  limit: number;
}

const shopSummaryProperties = {
  slug: { type: 'string' },
  name: { type: 'string' },
  category: { type: 'string' },
  address: nullableString,
  city: nullableString,
  state: nullableString,
  postal_code: nullableString,
  phone: nullableString,
  timezone: { type: 'string' },
} as const;

export const searchResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['slug', 'name', 'category', 'latitude', 'longitude', 'distance_miles'],
  properties: {
    ...shopSummaryProperties,
    latitude: { type: 'number' },
    longitude: { type: 'number' },
    distance_miles: { type: 'number', description: 'Great-circle distance, rounded to 2 decimals.' },
  },
} as const;

export const searchResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['search_id', 'count', 'results', 'query', 'message'],
  properties: {
    search_id: uuid,
    count: { type: 'integer' },
    query: {
      type: 'object',
      additionalProperties: false,
      required: ['latitude', 'longitude', 'radius_miles', 'limit'],
      properties: {
        latitude: { type: 'number' },
        longitude: { type: 'number' },
        radius_miles: { type: 'number' },
        category: { type: 'string' },
        limit: { type: 'integer' },
      },
    },
    results: { type: 'array', items: searchResultSchema },
    message: { type: 'string' },
  },
} as const;

// --- POST /router/delegate -------------------------------------------------------------------
export const delegateBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['shop_slug'],
  properties: {
    shop_slug: { type: 'string', minLength: 1, maxLength: 120, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' },
    intent: { type: 'string', maxLength: 500, pattern: NO_NUL, description: 'What the customer wants, in their words.' },
    search_id: { ...uuid, description: 'The search_id of the search the shop came from.' },
  },
} as const;

export interface DelegateBody {
  shop_slug: string;
  intent?: string;
  search_id?: string;
}

export const shopSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['slug', 'name', 'category', 'timezone'],
  properties: shopSummaryProperties,
} as const;

export const delegateResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['session_id', 'shop', 'message', 'next'],
  properties: {
    session_id: uuid,
    shop: shopSchema,
    message: { type: 'string', description: "The shop assistant's first message." },
    next: {
      type: 'object',
      additionalProperties: false,
      required: ['method', 'path', 'body', 'instructions'],
      properties: {
        method: { type: 'string', enum: ['POST'] },
        path: { type: 'string', enum: ['/chat'] },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['session_id', 'message'],
          properties: { session_id: uuid, message: { type: 'string' } },
        },
        instructions: { type: 'string' },
      },
    },
  },
} as const;

// --- POST /chat --------------------------------------------------------------------------------
export const chatBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['session_id', 'message'],
  properties: {
    session_id: uuid,
    message: { type: 'string', minLength: 1, maxLength: CHAT_MAX_MESSAGE_LENGTH, pattern: NO_NUL },
    customer_name: { type: 'string', minLength: 1, maxLength: 100, pattern: NO_NUL },
    idempotency_key: { type: 'string', minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH, pattern: '^[\\x21-\\x7e]+$' },
  },
} as const;

export interface ChatBody {
  session_id: string;
  message: string;
  customer_name?: string;
  idempotency_key?: string;
}

export const bookingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'status', 'service', 'starts_at', 'ends_at', 'local_time', 'shop_slug'],
  properties: {
    id: uuid,
    status: { type: 'string', enum: ['confirmed', 'cancelled'] },
    service: { type: 'string' },
    starts_at: { type: 'string', format: 'date-time' },
    ends_at: { type: 'string', format: 'date-time' },
    local_time: { type: 'string', description: "Start in the shop's time zone, e.g. 'Tue, Mar 4, 3:00 PM'." },
    customer_name: nullableString,
    shop_slug: { type: 'string' },
  },
} as const;

export const chatResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['session_id', 'reply', 'booking'],
  properties: {
    session_id: uuid,
    reply: { type: 'string' },
    booking: { anyOf: [bookingSchema, { type: 'null' }] },
    suggested_times: { type: 'array', items: { type: 'string', format: 'date-time' } },
  },
} as const;

// --- POST /router/feedback ----------------------------------------------------------------------
export const FEEDBACK_MAX_COMMENT_LENGTH = 500;

export const feedbackBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['session_id', 'rating'],
  properties: {
    session_id: uuid,
    rating: { type: 'integer', minimum: 1, maximum: 5, description: '1 (bad) to 5 (great).' },
    comment: { type: 'string', maxLength: FEEDBACK_MAX_COMMENT_LENGTH, pattern: NO_NUL, description: "The customer's words, if they gave any." },
  },
} as const;

export interface FeedbackBody {
  session_id: string;
  rating: number;
  comment?: string;
}

export const feedbackResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['session_id', 'rating', 'comment', 'created_at', 'updated_at'],
  properties: {
    session_id: uuid,
    rating: { type: 'integer' },
    comment: nullableString,
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

/** Response schemas for every status a router route can answer with. */
export const errorResponses = {
  401: errorBodySchema,
  404: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  422: errorBodySchema,
  429: errorBodySchema,
  500: errorBodySchema,
  503: errorBodySchema,
} as const;
