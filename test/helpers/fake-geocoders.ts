import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Loopback stand-ins for Google's Geocoding API and Nominatim: real HTTP servers on 127.0.0.1
 * (port 0) that speak their JSON wire formats, so the real clients run against them. Each answers
 * from a script (one answer per request, the last one repeated) and records every request with
 * the time it arrived (one clock: the server's).
 */
export interface RecordedRequest {
  url: URL;
  headers: IncomingHttpHeaders;
  /** performance.timeOrigin + performance.now() at arrival, ms. */
  at: number;
}

export interface FakeAnswer {
  status?: number;
  /** A JSON value (serialised) or a raw string body (sent as is, e.g. an HTML page). */
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Answer after this long (a provider's latency). */
  delayMs?: number;
  /** Never answer (the request hangs until the server closes): a process killed mid-request. */
  hold?: boolean;
}

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  /** Replace the script: answers in order, the last one repeated. */
  script(...answers: Array<FakeAnswer | ((req: RecordedRequest) => FakeAnswer)>): void;
  close(): Promise<void>;
}

export async function startFakeServer(path: string): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  let answers: Array<FakeAnswer | ((req: RecordedRequest) => FakeAnswer)> = [{ status: 404, body: 'no script' }];
  let served = 0;
  const server: Server = createServer((req, res) => {
    const recorded: RecordedRequest = { url: new URL(req.url ?? '/', 'http://127.0.0.1'), headers: req.headers, at: performance.timeOrigin + performance.now() };
    requests.push(recorded);
    if (recorded.url.pathname !== path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${recorded.url.pathname}`);
      return;
    }
    const next = answers[Math.min(served, answers.length - 1)]!;
    served += 1;
    const answer = typeof next === 'function' ? next(recorded) : next;
    if (answer.hold) return;
    const isText = typeof answer.body === 'string';
    const send = () => {
      res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? (isText ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8'), ...answer.headers });
      res.end(isText ? (answer.body as string) : JSON.stringify(answer.body));
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path === '/search' ? '' : path}`,
    requests,
    script(...next) {
      answers = next;
      served = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Held requests (and keep-alive sockets) would keep close() waiting.
        server.closeAllConnections();
      }),
  };
}

/** Google: GOOGLE_GEOCODING_URL is the full endpoint (…/maps/api/geocode/json). */
export function startFakeGoogle(): Promise<FakeServer> {
  return startFakeServer('/maps/api/geocode/json');
}

/** Nominatim: NOMINATIM_URL is the server's root; the client calls /search. */
export function startFakeNominatim(): Promise<FakeServer> {
  return startFakeServer('/search');
}

/** One Google result in its wire format. */
export function googleResult(options: { lat: number; lng: number; locationType: string; types?: string[]; formatted?: string; partialMatch?: boolean; placeId?: string; postalCode?: string; state?: string }) {
  return {
    address_components: [
      ...(options.postalCode ? [{ long_name: options.postalCode, short_name: options.postalCode, types: ['postal_code'] }] : []),
      ...(options.state ? [{ long_name: options.state, short_name: options.state, types: ['administrative_area_level_1', 'political'] }] : []),
    ],
    formatted_address: options.formatted ?? 'Somewhere, USA',
    geometry: { location: { lat: options.lat, lng: options.lng }, location_type: options.locationType, viewport: {} },
    place_id: options.placeId ?? 'ChIJ-fake-place',
    types: options.types ?? ['street_address'],
    ...(options.partialMatch ? { partial_match: true } : {}),
  };
}

export function googleOk(...results: ReturnType<typeof googleResult>[]): FakeAnswer {
  return { body: { results, status: 'OK' } };
}

export function googleStatus(status: string, errorMessage?: string): FakeAnswer {
  return { body: { results: [], status, ...(errorMessage ? { error_message: errorMessage } : {}) } };
}

/** One Nominatim jsonv2 place. */
export function nominatimPlace(options: { lat: number; lon: number; placeRank: number; addresstype?: string; importance?: number; displayName?: string; placeId?: number }) {
  return {
    place_id: options.placeId ?? 123456,
    licence: 'Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright',
    osm_type: 'way',
    osm_id: 42,
    lat: String(options.lat),
    lon: String(options.lon),
    category: 'building',
    type: options.addresstype ?? 'house',
    place_rank: options.placeRank,
    importance: options.importance ?? 0.00001,
    addresstype: options.addresstype ?? 'house',
    name: '',
    display_name: options.displayName ?? '1 Main Street, Phoenix, Arizona, 85004, United States',
    address: { house_number: '1', road: 'Main Street', city: 'Phoenix', state: 'Arizona', postcode: '85004', country: 'United States', country_code: 'us' },
    boundingbox: ['0', '0', '0', '0'],
  };
}
