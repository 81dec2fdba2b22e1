import type { AppContext } from '../context.js';
import { OAuthError } from '../errors/oauth.js';
import { audited, type AuditContext, type EventKind } from '../events/audit.js';
import type { NotificationRequest } from './schemas.js';
import { lockNotifiedCredentials, setHolderEvent, type AccessTokenGrant } from './store.js';

export const NOTIFICATION_EVENTS = {
  notify: { type: 'OPENID_CREDENTIAL_NOTIFICATION', category: 'OpenId' },
} as const satisfies Record<string, EventKind>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Notification endpoint (OID4VCI 1.0 §11): the wallet says what became of the credentials of one of
 * its responses. Recorded on them and in the event log; saying the same again changes nothing and
 * logs nothing (a wallet may retry), a later event (accepted, then deleted) replaces the earlier one.
 * Only the access token the credentials were issued with can speak of them.
 */
export async function recordNotification(
  deps: Pick<AppContext, 'db' | 'invalidations'>,
  audit: AuditContext,
  grant: AccessTokenGrant,
  notification: NotificationRequest,
): Promise<void> {
  const unknown = () => new OAuthError('invalid_notification_id', 'No credentials of this access token have this notification_id');
  if (!UUID.test(notification.notification_id)) throw unknown();
  await audited(deps, audit, NOTIFICATION_EVENTS.notify, async (trx) => {
    const credentials = await lockNotifiedCredentials(trx, notification.notification_id, grant.id);
    if (!credentials.length) throw unknown();
    if (credentials.every((credential) => credential.holder_event === notification.event)) return { result: undefined, data: null };
    await setHolderEvent(
      trx,
      credentials.map((credential) => credential.id),
      notification.event,
    );
    const [first] = credentials;
    return {
      result: undefined,
      data: {
        notificationId: notification.notification_id,
        event: notification.event,
        ...(notification.event_description !== undefined && { eventDescription: notification.event_description }),
        credentialIds: credentials.map((credential) => credential.id),
        credentialConfigurationId: first!.configuration_id,
        offerId: first!.offer_id,
        userId: first!.user_id,
        accessTokenId: grant.id,
      },
    };
  });
}
