import type { Db } from '../db/database.js';

export interface EventFilter {
  limit: number;
  beforeSeq?: string;
  types?: string[];
  categories?: string[];
  dateFrom?: Date;
  dateTo?: Date;
}

export async function listEvents(db: Db, filter: EventFilter) {
  let query = db.selectFrom('events').selectAll();
  if (filter.beforeSeq) query = query.where('seq', '<', filter.beforeSeq);
  if (filter.types?.length) query = query.where('type', 'in', filter.types);
  if (filter.categories?.length) query = query.where('category', 'in', filter.categories);
  if (filter.dateFrom) query = query.where('timestamp', '>=', filter.dateFrom);
  if (filter.dateTo) query = query.where('timestamp', '<=', filter.dateTo);
  return query.orderBy('seq', 'desc').limit(filter.limit + 1).execute();
}
