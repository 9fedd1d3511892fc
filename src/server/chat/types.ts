import type { BookingView, ServiceRow, ShopRow } from '../booking/types.js';
import type { BookingTools } from './tools.js';

export interface SessionRow {
  id: string;
  shop_id: number;
  source: 'search' | 'direct';
  search_id: string | null;
  intent: string | null;
  router_context: RouterContext;
  /** Opened by a request with a valid synthetic marker (routergpt's own checks). */
  synthetic: boolean;
}

/** What the router passed on, plus the offline assistant's half-finished booking. */
export interface RouterContext {
  source?: 'search' | 'direct';
  search_id?: string | null;
  intent?: string | null;
  draft?: Draft;
  [key: string]: unknown;
}

/** What the customer has told the offline assistant so far. */
export interface Draft {
  serviceId?: number;
  /** ISO instant of a chosen start. */
  start?: string;
  /** A day without a time, YYYY-MM-DD in the shop's zone. */
  date?: string;
  customerName?: string;
  customerPhone?: string;
  /** The details last asked for ("What name should the booking be under?"): a bare answer fills them. */
  awaiting?: Array<'customer_name' | 'customer_phone'>;
  /** Times last offered, so "yes" / "the first one" can pick one. */
  suggestions?: string[];
}

export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface AssistantInput {
  session: SessionRow;
  shop: ShopRow;
  services: ServiceRow[];
  history: ChatTurn[];
  message: string;
  customerName?: string;
  now: Date;
  tools: BookingTools;
}

export interface AssistantReply {
  reply: string;
  booking?: BookingView;
  suggestedTimes?: Date[];
  /** The offline assistant's state to keep for the next message (undefined clears it). */
  draft?: Draft;
}

export interface Assistant {
  readonly name: string;
  respond(input: AssistantInput): Promise<AssistantReply>;
}
