/**
 * Great-circle geometry for location search. Pure functions, shared by the SQL query builder
 * and by the tests' brute-force oracle.
 */

/** Mean Earth radius in miles (IUGG mean radius 6371.0088 km). */
export const EARTH_RADIUS_MILES = 3958.7613;

// deg * (π/180), in this order, as PostgreSQL's radians() computes it.
const toRad = (deg: number) => deg * (Math.PI / 180);
const toDeg = (rad: number) => (rad * 180) / Math.PI;

/** Haversine distance in miles — the same formula the SQL uses. */
export function haversineMiles(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = toRad(lat2 - lat1);
  const dLon = toRad(lon2 - lon1);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(lat1)) * Math.cos(toRad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_MILES * Math.asin(Math.min(1, Math.sqrt(a)));
}

export interface LatLonBox {
  latMin: number;
  latMax: number;
  lonMin: number;
  lonMax: number;
}

/**
 * Padding added to every box edge, in degrees (≈ 1 mm). The haversine filter decides; the box
 * only has to contain every point within the radius, so rounding must never shrink it.
 */
const PAD_DEG = 1e-8;

/**
 * Bounding boxes (one, or two across the ±180° meridian) that contain every point within
 * `radiusMiles` of (lat, lon). Latitude span is exact (r/R). Longitude half-span is
 * asin(sin(r/R) / cos(lat)) — the widest longitude on the circle, wider than r/(R·cos(lat))
 * near the poles. When the circle contains a pole every longitude is possible.
 */
export function boundingBoxes(lat: number, lon: number, radiusMiles: number): LatLonBox[] {
  const angular = radiusMiles / EARTH_RADIUS_MILES;
  const dLat = toDeg(angular) + PAD_DEG;
  const latMin = Math.max(-90, lat - dLat);
  const latMax = Math.min(90, lat + dLat);
  const ratio = Math.sin(angular) / Math.cos(toRad(lat));
  if (latMax >= 90 || latMin <= -90 || !(ratio < 1)) {
    return [{ latMin, latMax, lonMin: -180, lonMax: 180 }];
  }
  const dLon = toDeg(Math.asin(ratio)) + PAD_DEG;
  const lonMin = lon - dLon;
  const lonMax = lon + dLon;
  if (dLon >= 180) return [{ latMin, latMax, lonMin: -180, lonMax: 180 }];
  if (lonMin < -180) {
    return [
      { latMin, latMax, lonMin: -180, lonMax },
      { latMin, latMax, lonMin: lonMin + 360, lonMax: 180 },
    ];
  }
  if (lonMax > 180) {
    return [
      { latMin, latMax, lonMin, lonMax: 180 },
      { latMin, latMax, lonMin: -180, lonMax: lonMax - 360 },
    ];
  }
  return [{ latMin, latMax, lonMin, lonMax }];
}
