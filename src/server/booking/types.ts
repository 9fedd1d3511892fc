export interface ShopRow {
  id: number;
  slug: string;
  name: string;
  category: string;
  address: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  phone: string | null;
  timezone: string;
  /** The shop's setting (migration 015): a booking needs the customer's phone as well as a name. */
  require_customer_phone: boolean;
}

export interface ServiceRow {
  id: number;
  name: string;
  duration_minutes: number;
  price_cents: number;
}

export interface OpeningInterval {
  weekday: number;
  /** Minutes after local midnight. */
  opens: number;
  closes: number;
}

export interface BookingRow {
  id: string;
  shop_id: number;
  service_id: number;
  session_id: string | null;
  customer_name: string | null;
  customer_phone: string | null;
  starts_at: Date;
  ends_at: Date;
  status: 'confirmed' | 'cancelled';
}

/** A booking as the API shows it. */
export interface BookingView {
  id: string;
  status: 'confirmed' | 'cancelled';
  service: string;
  starts_at: string;
  ends_at: string;
  local_time: string;
  customer_name: string | null;
  shop_slug: string;
}

export const SHOP_COLUMNS = 'id::int AS id, slug, name, category, address, city, state, postal_code, phone, timezone, require_customer_phone';

export function formatPrice(cents: number): string {
  return cents % 100 === 0 ? `$${cents / 100}` : `$${(cents / 100).toFixed(2)}`;
}

export function describeService(s: ServiceRow): string {
  return `${s.name} (${formatPrice(s.price_cents)}, ${s.duration_minutes} min)`;
}
