/** The API's response shapes as the checks read them (the contract is openapi/openapi_chatgpt.yaml). */
export interface SearchResult {
  slug: string;
  name: string;
  category: string;
  latitude: number;
  longitude: number;
  distance_miles: number;
}

export interface SearchResponse {
  search_id: string;
  count: number;
  results: SearchResult[];
  message: string;
}

export interface DelegateResponse {
  session_id: string;
  shop: { slug: string; name: string; category: string; city?: string | null };
  message: string;
}

export interface ChatResponse {
  session_id: string;
  reply: string;
  booking: { id: string; status: string; service: string; starts_at: string; local_time: string; shop_slug: string } | null;
  suggested_times?: string[];
}

export function isSearchResponse(v: unknown): v is SearchResponse {
  return typeof v === 'object' && v !== null && Array.isArray((v as SearchResponse).results) && typeof (v as SearchResponse).message === 'string';
}
