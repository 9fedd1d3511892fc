/**
 * pglite-socket 0.2.17 serialises all connections onto PGlite's one backend message by
 * message. With the extended query protocol (what `pg` uses for parameterised queries) a
 * query is several messages — Parse, Bind, Describe, Execute, Sync — and another connection's
 * Parse in between replaces the unnamed statement ("unnamed prepared statement does not
 * exist"). Its queue only keeps a connection's turn inside an explicit transaction.
 *
 * This patch makes a connection keep its turn from its first extended-protocol message until
 * its Sync, and keeps the queue running after a failed message (the original returns with
 * `processing` stuck true, hanging every connection). It replaces one method of the server's
 * queue instance; the package version is pinned exactly in package.json, and
 * test/foundation/embedded-concurrency.test.ts fails if an upgrade changes the internals.
 */

interface QueueItem {
  handlerId: number;
  message: Uint8Array;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
  onData: (data: Uint8Array) => void;
}

interface QueueInternals {
  queue: QueueItem[];
  processing: boolean;
  lastHandlerId: number | null;
  db: {
    isInTransaction(): boolean;
    runExclusive<T>(fn: () => Promise<T>): Promise<T>;
    execProtocolRawStream(message: Uint8Array, options: { onRawData: (data: Uint8Array) => void }): Promise<unknown>;
  };
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

// Frontend message types of the extended query protocol (until Sync, 'S').
const EXTENDED = new Set([0x50 /* P */, 0x42 /* B */, 0x44 /* D */, 0x45 /* E */, 0x43 /* C */, 0x48 /* H */]);
const SYNC = 0x53;

export function patchQueryQueue(server: object): void {
  const queue = (server as { queryQueue?: QueueInternals }).queryQueue;
  if (!queue || typeof queue.processQueue !== 'function' || !Array.isArray(queue.queue)) {
    throw new Error('pglite-socket internals changed: review src/db/embedded-queue.ts before upgrading');
  }
  let sticky: number | null = null;
  const originalClear = queue.clearQueueForHandler.bind(queue);
  queue.clearQueueForHandler = (handlerId: number) => {
    if (sticky === handlerId) sticky = null;
    originalClear(handlerId);
  };
  queue.processQueue = async function processQueue(this: QueueInternals) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const owner = sticky ?? (this.db.isInTransaction() ? this.lastHandlerId : null);
        let item: QueueItem | undefined;
        if (owner !== null) {
          const index = this.queue.findIndex((q) => q.handlerId === owner);
          if (index === -1) break; // wait for the owner's next message
          item = this.queue.splice(index, 1)[0];
        } else item = this.queue.shift();
        if (!item) break;
        const type = item.message[0] ?? 0;
        let bytes = 0;
        try {
          await this.db.runExclusive(() => this.db.execProtocolRawStream(item.message, { onRawData: (data) => { bytes += data.length; item.onData(data); } }));
        } catch (error) {
          sticky = null;
          item.reject(error);
          continue;
        }
        if (EXTENDED.has(type)) sticky = item.handlerId;
        else if (type === SYNC || sticky === item.handlerId) sticky = null;
        this.lastHandlerId = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }.bind(queue);
}
