import type { Config } from '../config.js';
import { STATUS_LIST_PATHS, type StatusListKind } from '../protocol.js';

/** The URI of a list's token, and of the aggregation of its kind (§9): under PUBLIC_URL, like every public document. */
export const statusListUri = (config: Config, kind: StatusListKind, listId: string) => `${config.publicUrl}${STATUS_LIST_PATHS[kind]}/${listId}/token`;
export const aggregationUri = (config: Config, kind: StatusListKind) => `${config.publicUrl}${STATUS_LIST_PATHS[kind]}/distribution`;
