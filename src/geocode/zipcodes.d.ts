// Types for the `zipcodes` package (it ships none): only what offline.ts uses.
declare module 'zipcodes' {
  export interface ZipCodeEntry {
    zip: string;
    latitude: number;
    longitude: number;
    city: string;
    state: string;
    country: string;
  }
  export function lookup(zip: string | number): ZipCodeEntry | undefined;
  export function lookupByName(city: string, state: string): ZipCodeEntry[];
  /** Every entry by ZIP (US) or postal prefix (Canada, 3 characters). */
  export const codes: Record<string, ZipCodeEntry>;
  const zipcodes: { lookup: typeof lookup; lookupByName: typeof lookupByName; codes: typeof codes };
  export default zipcodes;
}
