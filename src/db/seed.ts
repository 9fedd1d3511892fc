/**
 * Demo data: the checklist's five test shops plus 25 made-up shops around Phoenix, Tempe,
 * Scottsdale, Mesa, Chandler and Gilbert, each with services and opening hours.
 *
 * Everything is deterministic and idempotent: rows are matched on their natural keys
 * (shops.slug, services (shop_id, name), opening_hours (shop_id, weekday, opens)) with
 * ON CONFLICT DO NOTHING, so a second run inserts nothing and never overwrites a row
 * someone has changed since (for example coordinates set by the geocoding step).
 *
 * Three demo shops have no coordinates on purpose, so the geocoding step has work to do.
 * Addresses, phone numbers (480-555-01xx, reserved for fiction) and businesses are made up.
 *
 * Needs migrations 001, 002 and 006. Runs three statements and opens no transaction:
 * the caller decides whether to wrap it in one.
 */

/** The checklist's test shops ("Remove test data" deletes exactly these slugs). */
export const TEST_SHOP_SLUGS = [
  'bishops-barbershop-tempe',
  'tempe-hair-salon',
  'phoenix-beauty-studio',
  'scottsdale-styles',
  'mesa-cuts',
] as const;

export type TestShopSlug = (typeof TEST_SHOP_SLUGS)[number];

/** Anything with pg's `query(text, values)`: a Pool, a PoolClient or a Client. */
export interface SeedClient {
  query: (text: string, values?: unknown[]) => Promise<{ rows: unknown[]; rowCount?: number | null }>;
}

/** Rows newly inserted by this run (all zero when the demo data is already there). */
export interface SeedResult {
  shops: number;
  services: number;
  hours: number;
}

export type ShopCategory = 'barbershop' | 'salon' | 'beauty' | 'nails' | 'spa';

/** Opening-hours patterns; times are wall-clock times in America/Phoenix. */
export type HoursPattern = 'mon-sat' | 'mon-sat-sun' | 'tue-sat' | 'split' | 'daily';

/** Price level applied to the category's price list (percent). */
export type PriceTier = 85 | 100 | 125;

export interface DemoShop {
  slug: string;
  name: string;
  category: ShopCategory;
  address: string;
  city: string;
  postalCode: string;
  phone: string;
  description: string;
  /** null for the shops left for the geocoding step. */
  latitude: number | null;
  longitude: number | null;
  /** How many of the category's services the shop offers (2–5, in list order). */
  serviceCount: 2 | 3 | 4 | 5;
  tier: PriceTier;
  hours: HoursPattern;
}

export interface ServiceTemplate {
  name: string;
  durationMinutes: number;
  priceCents: number;
}

const SERVICE_MENUS: Record<ShopCategory, readonly ServiceTemplate[]> = {
  barbershop: [
    { name: 'Classic Haircut', durationMinutes: 30, priceCents: 3000 },
    { name: 'Beard Trim', durationMinutes: 15, priceCents: 1500 },
    { name: 'Haircut & Beard Trim', durationMinutes: 45, priceCents: 4200 },
    { name: 'Hot Towel Shave', durationMinutes: 30, priceCents: 3500 },
    { name: 'Kids Haircut', durationMinutes: 20, priceCents: 2000 },
  ],
  salon: [
    { name: "Women's Haircut & Style", durationMinutes: 60, priceCents: 5500 },
    { name: "Men's Haircut", durationMinutes: 30, priceCents: 3000 },
    { name: 'Single-Process Color', durationMinutes: 90, priceCents: 9500 },
    { name: 'Blowout', durationMinutes: 45, priceCents: 4000 },
    { name: 'Partial Highlights', durationMinutes: 120, priceCents: 14000 },
  ],
  beauty: [
    { name: 'Brow Shaping', durationMinutes: 15, priceCents: 2000 },
    { name: 'Lash Lift & Tint', durationMinutes: 60, priceCents: 8500 },
    { name: 'Makeup Application', durationMinutes: 60, priceCents: 7500 },
    { name: 'Express Facial', durationMinutes: 30, priceCents: 4500 },
    { name: 'Brow Tint', durationMinutes: 15, priceCents: 1800 },
  ],
  nails: [
    { name: 'Classic Manicure', durationMinutes: 30, priceCents: 2500 },
    { name: 'Gel Manicure', durationMinutes: 45, priceCents: 4000 },
    { name: 'Classic Pedicure', durationMinutes: 45, priceCents: 3800 },
    { name: 'Spa Pedicure', durationMinutes: 60, priceCents: 5500 },
    { name: 'Full Set Acrylic', durationMinutes: 75, priceCents: 6000 },
  ],
  spa: [
    { name: 'Swedish Massage (60 min)', durationMinutes: 60, priceCents: 9000 },
    { name: 'Deep Tissue Massage (90 min)', durationMinutes: 90, priceCents: 13500 },
    { name: 'Signature Facial', durationMinutes: 60, priceCents: 11000 },
    { name: 'Body Scrub', durationMinutes: 45, priceCents: 7500 },
    { name: 'Hot Stone Massage', durationMinutes: 90, priceCents: 14500 },
  ],
};

export interface HoursRow {
  /** 0 = Sunday … 6 = Saturday, as in opening_hours.weekday. */
  weekday: number;
  opens: string;
  closes: string;
}

function days(from: number, to: number, opens: string, closes: string): HoursRow[] {
  const rows: HoursRow[] = [];
  for (let weekday = from; weekday <= to; weekday += 1) rows.push({ weekday, opens, closes });
  return rows;
}

const HOURS: Record<HoursPattern, readonly HoursRow[]> = {
  // Monday–Saturday 09:00–18:00.
  'mon-sat': days(1, 6, '09:00', '18:00'),
  // The same, plus Sunday afternoons.
  'mon-sat-sun': [...days(1, 6, '09:00', '18:00'), { weekday: 0, opens: '10:00', closes: '16:00' }],
  // Closed Sunday and Monday, open late on weekdays (common for salons).
  'tue-sat': [...days(2, 5, '10:00', '19:00'), { weekday: 6, opens: '09:00', closes: '17:00' }],
  // Closed for lunch on weekdays: two intervals on one day, short Saturday.
  split: [...days(1, 5, '09:00', '12:00'), ...days(1, 5, '13:00', '18:00'), { weekday: 6, opens: '09:00', closes: '14:00' }],
  // Every day 09:00–19:00 (spas).
  daily: days(0, 6, '09:00', '19:00'),
};

export const DEMO_SHOPS: readonly DemoShop[] = [
  // --- The checklist's test shops -------------------------------------------------
  {
    slug: 'bishops-barbershop-tempe', name: "Bishop's Barbershop", category: 'barbershop',
    address: '414 S Mill Ave', city: 'Tempe', postalCode: '85281', phone: '480-555-0101',
    description: 'Old-school barbershop on Mill Avenue: classic cuts, fades and hot towel shaves. Walk-ins welcome.',
    latitude: 33.4255, longitude: -111.94, serviceCount: 5, tier: 100, hours: 'mon-sat',
  },
  {
    slug: 'tempe-hair-salon', name: 'Tempe Hair Salon', category: 'salon',
    address: '1290 E University Dr', city: 'Tempe', postalCode: '85281', phone: '480-555-0102',
    description: 'Full-service salon near ASU for cuts, color and blowouts.',
    latitude: 33.4219, longitude: -111.9171, serviceCount: 5, tier: 100, hours: 'tue-sat',
  },
  {
    slug: 'phoenix-beauty-studio', name: 'Phoenix Beauty Studio', category: 'beauty',
    address: '1001 N Central Ave', city: 'Phoenix', postalCode: '85004', phone: '480-555-0103',
    description: 'Brows, lashes and makeup in downtown Phoenix.',
    latitude: 33.4589, longitude: -112.0738, serviceCount: 4, tier: 100, hours: 'mon-sat-sun',
  },
  {
    slug: 'scottsdale-styles', name: 'Scottsdale Styles', category: 'salon',
    address: '7120 E Indian School Rd', city: 'Scottsdale', postalCode: '85251', phone: '480-555-0104',
    description: 'Old Town Scottsdale salon specialising in color and event styling.',
    latitude: 33.4946, longitude: -111.9249, serviceCount: 4, tier: 125, hours: 'tue-sat',
  },
  {
    slug: 'mesa-cuts', name: 'Mesa Cuts', category: 'barbershop',
    address: '125 W Main St', city: 'Mesa', postalCode: '85201', phone: '480-555-0105',
    description: 'Neighbourhood barbershop in downtown Mesa.',
    latitude: 33.4151, longitude: -111.8339, serviceCount: 3, tier: 85, hours: 'mon-sat',
  },
  // --- Phoenix --------------------------------------------------------------------
  {
    slug: 'roosevelt-row-barbers', name: 'Roosevelt Row Barbers', category: 'barbershop',
    address: '918 N 5th St', city: 'Phoenix', postalCode: '85004', phone: '480-555-0111',
    description: 'Barbershop in the Roosevelt Row arts district. Skin fades and beard sculpting.',
    latitude: 33.4581, longitude: -112.0686, serviceCount: 4, tier: 100, hours: 'mon-sat-sun',
  },
  {
    slug: 'arcadia-blowout-bar', name: 'Arcadia Blowout Bar', category: 'salon',
    address: '4015 E Indian School Rd', city: 'Phoenix', postalCode: '85018', phone: '480-555-0112',
    description: 'Blowouts and quick styling in Arcadia.',
    latitude: 33.4948, longitude: -111.9942, serviceCount: 4, tier: 125, hours: 'tue-sat',
  },
  {
    slug: 'biltmore-nail-lounge', name: 'Biltmore Nail Lounge', category: 'nails',
    address: '2410 E Camelback Rd', city: 'Phoenix', postalCode: '85016', phone: '480-555-0113',
    description: 'Manicures and pedicures near the Biltmore.',
    latitude: 33.5092, longitude: -112.0291, serviceCount: 5, tier: 125, hours: 'mon-sat-sun',
  },
  {
    slug: 'melrose-cuts-and-shaves', name: 'Melrose Cuts & Shaves', category: 'barbershop',
    address: '4501 N 7th Ave', city: 'Phoenix', postalCode: '85013', phone: '480-555-0114',
    description: 'Friendly barbershop on the Melrose district strip of 7th Avenue.',
    latitude: 33.5016, longitude: -112.0833, serviceCount: 3, tier: 85, hours: 'mon-sat',
  },
  {
    slug: 'desert-bloom-day-spa', name: 'Desert Bloom Day Spa', category: 'spa',
    address: '3219 E Camelback Rd', city: 'Phoenix', postalCode: '85018', phone: '480-555-0115',
    description: 'Massages, facials and body treatments in the Camelback corridor.',
    latitude: 33.5091, longitude: -112.0112, serviceCount: 5, tier: 125, hours: 'daily',
  },
  {
    // No coordinates: left for the geocoding step.
    slug: 'sunnyslope-style-house', name: 'Sunnyslope Style House', category: 'salon',
    address: '9020 N 7th St', city: 'Phoenix', postalCode: '85020', phone: '480-555-0116',
    description: 'Family salon in Sunnyslope. Cuts for the whole household.',
    latitude: null, longitude: null, serviceCount: 3, tier: 85, hours: 'mon-sat',
  },
  // --- Tempe ----------------------------------------------------------------------
  {
    slug: 'mill-avenue-fades', name: 'Mill Avenue Fades', category: 'barbershop',
    address: '610 S Mill Ave', city: 'Tempe', postalCode: '85281', phone: '480-555-0121',
    description: 'Fades, tapers and line-ups a block from campus.',
    latitude: 33.4241, longitude: -111.9398, serviceCount: 4, tier: 85, hours: 'mon-sat-sun',
  },
  {
    slug: 'lakeshore-day-spa', name: 'Lakeshore Day Spa', category: 'spa',
    address: '60 E Rio Salado Pkwy', city: 'Tempe', postalCode: '85281', phone: '480-555-0122',
    description: 'Day spa overlooking Tempe Town Lake.',
    latitude: 33.4301, longitude: -111.9389, serviceCount: 4, tier: 100, hours: 'daily',
  },
  {
    slug: 'broadway-nail-studio', name: 'Broadway Nail Studio', category: 'nails',
    address: '1825 E Broadway Rd', city: 'Tempe', postalCode: '85282', phone: '480-555-0123',
    description: 'Gel, acrylic and classic nail care.',
    latitude: 33.4071, longitude: -111.9081, serviceCount: 5, tier: 85, hours: 'mon-sat',
  },
  {
    slug: 'baseline-color-lab', name: 'Baseline Color Lab', category: 'salon',
    address: '1845 E Baseline Rd', city: 'Tempe', postalCode: '85283', phone: '480-555-0124',
    description: 'Color-focused salon: balayage, highlights and corrective color.',
    latitude: 33.3783, longitude: -111.9086, serviceCount: 5, tier: 100, hours: 'tue-sat',
  },
  // --- Scottsdale -----------------------------------------------------------------
  {
    slug: 'old-town-barber-co', name: 'Old Town Barber Co.', category: 'barbershop',
    address: '7217 E 1st Ave', city: 'Scottsdale', postalCode: '85251', phone: '480-555-0131',
    description: 'Traditional barbering with a straight-razor finish in Old Town.',
    latitude: 33.4914, longitude: -111.9229, serviceCount: 5, tier: 125, hours: 'mon-sat',
  },
  {
    slug: 'camelback-nail-bar', name: 'Camelback Nail Bar', category: 'nails',
    address: '4400 N Scottsdale Rd', city: 'Scottsdale', postalCode: '85251', phone: '480-555-0132',
    description: 'Nail bar with walk-in manicures near Fashion Square.',
    latitude: 33.5004, longitude: -111.9262, serviceCount: 4, tier: 125, hours: 'mon-sat-sun',
  },
  {
    slug: 'mccormick-ranch-spa', name: 'McCormick Ranch Spa', category: 'spa',
    address: '7700 E McCormick Pkwy', city: 'Scottsdale', postalCode: '85258', phone: '480-555-0133',
    description: 'Resort-style massages and facials at McCormick Ranch.',
    latitude: 33.548, longitude: -111.9119, serviceCount: 5, tier: 125, hours: 'daily',
  },
  {
    slug: 'shea-salon-and-color', name: 'Shea Salon & Color', category: 'salon',
    address: '7607 E Shea Blvd', city: 'Scottsdale', postalCode: '85260', phone: '480-555-0134',
    description: 'North Scottsdale salon for cuts, color and blowouts.',
    latitude: 33.5826, longitude: -111.9201, serviceCount: 4, tier: 100, hours: 'tue-sat',
  },
  // --- Mesa -----------------------------------------------------------------------
  {
    slug: 'dobson-ranch-barbers', name: 'Dobson Ranch Barbers', category: 'barbershop',
    address: '1954 S Dobson Rd', city: 'Mesa', postalCode: '85202', phone: '480-555-0141',
    description: 'Neighbourhood barbers, closed for lunch on weekdays.',
    latitude: 33.3799, longitude: -111.8759, serviceCount: 4, tier: 85, hours: 'split',
  },
  {
    slug: 'fiesta-beauty-bar', name: 'Fiesta Beauty Bar', category: 'beauty',
    address: '1445 W Southern Ave', city: 'Mesa', postalCode: '85202', phone: '480-555-0142',
    description: 'Brows, lashes and express facials near Fiesta Mall.',
    latitude: 33.3931, longitude: -111.8601, serviceCount: 5, tier: 85, hours: 'mon-sat',
  },
  {
    slug: 'red-mountain-nails', name: 'Red Mountain Nails', category: 'nails',
    address: '2830 N Power Rd', city: 'Mesa', postalCode: '85215', phone: '480-555-0143',
    description: 'Nail salon in northeast Mesa.',
    latitude: 33.4654, longitude: -111.6867, serviceCount: 3, tier: 85, hours: 'mon-sat-sun',
  },
  {
    slug: 'superstition-springs-spa', name: 'Superstition Springs Spa', category: 'spa',
    address: '6555 E Southern Ave', city: 'Mesa', postalCode: '85206', phone: '480-555-0144',
    description: 'Massage and skin care in east Mesa.',
    latitude: 33.3929, longitude: -111.6891, serviceCount: 3, tier: 100, hours: 'daily',
  },
  // --- Chandler -------------------------------------------------------------------
  {
    slug: 'downtown-chandler-barbers', name: 'Downtown Chandler Barbers', category: 'barbershop',
    address: '24 S San Marcos Pl', city: 'Chandler', postalCode: '85225', phone: '480-555-0151',
    description: 'Barbershop on the historic square in downtown Chandler.',
    latitude: 33.3029, longitude: -111.8421, serviceCount: 5, tier: 100, hours: 'mon-sat',
  },
  {
    slug: 'west-chandler-salon', name: 'West Chandler Salon', category: 'salon',
    address: '3155 W Chandler Blvd', city: 'Chandler', postalCode: '85226', phone: '480-555-0152',
    description: 'Salon next to Chandler Fashion Center.',
    latitude: 33.3061, longitude: -111.8962, serviceCount: 4, tier: 100, hours: 'mon-sat-sun',
  },
  {
    // No coordinates: left for the geocoding step.
    slug: 'ocotillo-nail-studio', name: 'Ocotillo Nail Studio', category: 'nails',
    address: '2475 W Queen Creek Rd', city: 'Chandler', postalCode: '85248', phone: '480-555-0153',
    description: 'Quiet nail studio in Ocotillo.',
    latitude: null, longitude: null, serviceCount: 4, tier: 100, hours: 'tue-sat',
  },
  {
    slug: 'ray-road-day-spa', name: 'Ray Road Day Spa', category: 'spa',
    address: '1960 W Ray Rd', city: 'Chandler', postalCode: '85224', phone: '480-555-0154',
    description: 'Couples-friendly day spa in west Chandler.',
    latitude: 33.3201, longitude: -111.8749, serviceCount: 4, tier: 100, hours: 'daily',
  },
  // --- Gilbert --------------------------------------------------------------------
  {
    slug: 'heritage-district-barbers', name: 'Heritage District Barbers', category: 'barbershop',
    address: '45 N Gilbert Rd', city: 'Gilbert', postalCode: '85234', phone: '480-555-0161',
    description: 'Barbershop in the Gilbert Heritage District.',
    latitude: 33.3534, longitude: -111.7891, serviceCount: 2, tier: 100, hours: 'mon-sat',
  },
  {
    slug: 'san-tan-village-salon', name: 'San Tan Village Salon', category: 'salon',
    address: '2190 E Williams Field Rd', city: 'Gilbert', postalCode: '85295', phone: '480-555-0162',
    description: 'Modern salon at San Tan Village.',
    latitude: 33.3059, longitude: -111.7431, serviceCount: 5, tier: 125, hours: 'mon-sat-sun',
  },
  {
    // No coordinates: left for the geocoding step.
    slug: 'val-vista-beauty-bar', name: 'Val Vista Beauty Bar', category: 'beauty',
    address: '1515 N Val Vista Dr', city: 'Gilbert', postalCode: '85234', phone: '480-555-0163',
    description: 'Lashes, brows and makeup in north Gilbert.',
    latitude: null, longitude: null, serviceCount: 2, tier: 100, hours: 'mon-sat',
  },
];

/** A category's price scaled to the shop's tier, rounded to whole dollars. */
function tierPrice(priceCents: number, tier: PriceTier): number {
  return Math.round((priceCents * tier) / 10000) * 100;
}

export function demoServices(shop: DemoShop): ServiceTemplate[] {
  return SERVICE_MENUS[shop.category].slice(0, shop.serviceCount).map((s) => ({ ...s, priceCents: tierPrice(s.priceCents, shop.tier) }));
}

export function demoHours(shop: DemoShop): readonly HoursRow[] {
  return HOURS[shop.hours];
}

// Each statement takes one array per column and unnest()s them, so every table is
// written in a single round trip with a fixed number of parameters. WITH ORDINALITY +
// ORDER BY keeps identity values in list order, so ids are the same on every fresh database.

const INSERT_SHOPS = `
INSERT INTO shops (slug, name, category, address, city, state, postal_code, phone, timezone, description,
                   latitude, longitude, geocoded_at, geocode_source, geocode_accuracy)
SELECT t.slug, t.name, t.category, t.address, t.city, 'AZ', t.postal_code, t.phone, 'America/Phoenix', t.description,
       t.latitude, t.longitude,
       CASE WHEN t.latitude IS NOT NULL THEN now() END,
       CASE WHEN t.latitude IS NOT NULL THEN 'seed' END,
       CASE WHEN t.latitude IS NOT NULL THEN 'rooftop' END
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::double precision[], $10::double precision[])
     WITH ORDINALITY AS t(slug, name, category, address, city, postal_code, phone, description, latitude, longitude, ord)
ORDER BY t.ord
ON CONFLICT (slug) DO NOTHING
RETURNING id`;

const INSERT_SERVICES = `
INSERT INTO services (shop_id, name, duration_minutes, price_cents)
SELECT s.id, t.name, t.duration_minutes, t.price_cents
FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[])
     WITH ORDINALITY AS t(slug, name, duration_minutes, price_cents, ord)
JOIN shops s ON s.slug = t.slug
ORDER BY t.ord
ON CONFLICT (shop_id, name) DO NOTHING
RETURNING id`;

const INSERT_HOURS = `
INSERT INTO opening_hours (shop_id, weekday, opens, closes)
SELECT s.id, t.weekday, t.opens, t.closes
FROM unnest($1::text[], $2::smallint[], $3::time[], $4::time[]) AS t(slug, weekday, opens, closes)
JOIN shops s ON s.slug = t.slug
ON CONFLICT (shop_id, weekday, opens) DO NOTHING
RETURNING shop_id`;

/**
 * Insert the demo shops, their services and opening hours. Idempotent: a second run
 * inserts nothing and returns zeros. Does not open a transaction (wrap it if you want
 * all or nothing).
 */
export async function seedDemo(client: SeedClient): Promise<SeedResult> {
  const shops = await client.query(INSERT_SHOPS, [
    DEMO_SHOPS.map((s) => s.slug),
    DEMO_SHOPS.map((s) => s.name),
    DEMO_SHOPS.map((s) => s.category),
    DEMO_SHOPS.map((s) => s.address),
    DEMO_SHOPS.map((s) => s.city),
    DEMO_SHOPS.map((s) => s.postalCode),
    DEMO_SHOPS.map((s) => s.phone),
    DEMO_SHOPS.map((s) => s.description),
    DEMO_SHOPS.map((s) => s.latitude),
    DEMO_SHOPS.map((s) => s.longitude),
  ]);

  const services = DEMO_SHOPS.flatMap((shop) => demoServices(shop).map((service) => ({ slug: shop.slug, ...service })));
  const insertedServices = await client.query(INSERT_SERVICES, [
    services.map((s) => s.slug),
    services.map((s) => s.name),
    services.map((s) => s.durationMinutes),
    services.map((s) => s.priceCents),
  ]);

  const hours = DEMO_SHOPS.flatMap((shop) => demoHours(shop).map((h) => ({ slug: shop.slug, ...h })));
  const insertedHours = await client.query(INSERT_HOURS, [
    hours.map((h) => h.slug),
    hours.map((h) => h.weekday),
    hours.map((h) => h.opens),
    hours.map((h) => h.closes),
  ]);

  return { shops: shops.rows.length, services: insertedServices.rows.length, hours: insertedHours.rows.length };
}
