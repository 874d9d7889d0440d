/**
 * IndexedDB of the payment channels this tab is party to, one database per profile slot
 * (`tabula-<slot>-channels`): each channel's terms, state and transactions, and the last unit both sides signed,
 * the evidence that closes it. Kept so that a reload still closes, challenges and settles what the tab was paid or
 * paid for. Values are stored as they are (structured clone keeps bigints).
 */
import { type DBSchema, type IDBPDatabase, openDB } from "idb";

/** A stored channel: the fields are core/payments' record; `key` is the contract's address and the channel id. */
export interface StoredChannel {
  key: string;
  [field: string]: unknown;
}

interface ChannelsSchema extends DBSchema {
  channels: { key: string; value: StoredChannel };
}

const DB_VERSION = 1;

export class ChannelsDB {
  readonly #db: IDBPDatabase<ChannelsSchema>;

  private constructor(db: IDBPDatabase<ChannelsSchema>) {
    this.#db = db;
  }

  static async open(name: string): Promise<ChannelsDB> {
    const db = await openDB<ChannelsSchema>(name, DB_VERSION, {
      upgrade(database) {
        database.createObjectStore("channels", { keyPath: "key" });
      },
    });
    return new ChannelsDB(db);
  }

  async all(): Promise<StoredChannel[]> {
    return await this.#db.getAll("channels");
  }

  async put(channel: StoredChannel): Promise<void> {
    await this.#db.put("channels", channel);
  }

  close(): void {
    this.#db.close();
  }
}
