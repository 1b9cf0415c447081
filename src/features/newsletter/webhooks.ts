import { z } from 'zod';

/**
 * Bounces and complaints as mail providers report them, in three formats:
 * our documented generic JSON, Amazon SES notifications delivered by SNS, and
 * Postmark's bounce and spam-complaint webhooks. Each becomes MailEvents.
 */

export const PROVIDERS = ['generic', 'ses', 'postmark'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface MailEvent {
  email: string;
  kind: 'hard-bounce' | 'soft-bounce' | 'complaint';
  at?: Date | undefined;
  detail?: string | undefined;
}

export class BadWebhook extends Error {}

const email = z.string().trim().toLowerCase().pipe(z.email());
const when = z
  .string()
  .optional()
  .transform((v) => {
    const d = v ? new Date(v) : undefined;
    return d && !Number.isNaN(d.getTime()) ? d : undefined;
  });

/**
 * Generic: `{ "events": [ { "type": "bounce" | "complaint", "bounce": "hard" |
 * "soft", "email": "…", "at": "ISO 8601", "reason": "…" } ] }`, or one such
 * event on its own.
 */
const genericEvent = z.object({
  type: z.enum(['bounce', 'complaint']),
  bounce: z.enum(['hard', 'soft']).optional(),
  email,
  at: when,
  reason: z.string().max(500).optional(),
});
const generic = z.union([z.object({ events: z.array(genericEvent).max(1000) }), genericEvent]);

const sesRecipient = z.object({ emailAddress: z.string() });
const sesMessage = z.object({
  notificationType: z.string().optional(),
  eventType: z.string().optional(),
  bounce: z
    .object({
      bounceType: z.string(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: z.array(sesRecipient),
      timestamp: z.string().optional(),
    })
    .optional(),
  complaint: z
    .object({
      complainedRecipients: z.array(sesRecipient),
      timestamp: z.string().optional(),
      complaintFeedbackType: z.string().optional(),
    })
    .optional(),
});

const postmark = z.object({
  RecordType: z.string(),
  Type: z.string().optional(),
  Email: email,
  BouncedAt: when,
  Description: z.string().optional(),
});
const POSTMARK_HARD = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated', 'Blocked']);
const POSTMARK_SOFT = new Set(['SoftBounce', 'Transient', 'DnsError', 'AutoResponder']);

/** Body text (SNS posts JSON as text/plain) or parsed JSON. */
function json(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch {
    throw new BadWebhook('not JSON');
  }
}

export function parseWebhook(provider: Provider, raw: unknown): MailEvent[] {
  const body = json(raw);
  if (provider === 'generic') {
    const p = generic.safeParse(body);
    if (!p.success) throw new BadWebhook('not the generic format');
    const list = 'events' in p.data ? p.data.events : [p.data];
    return list.map((e) => ({
      email: e.email,
      kind:
        e.type === 'complaint' ? 'complaint' : e.bounce === 'soft' ? 'soft-bounce' : 'hard-bounce',
      at: e.at,
      detail: e.reason,
    }));
  }
  if (provider === 'ses') {
    // SNS wraps SES's notification: Type "Notification", the notification as JSON text in Message.
    const envelope = z.object({ Type: z.string(), Message: z.string().optional() }).safeParse(body);
    if (!envelope.success) throw new BadWebhook('not an SNS message');
    if (envelope.data.Type !== 'Notification' || !envelope.data.Message) return [];
    const m = sesMessage.safeParse(json(envelope.data.Message));
    if (!m.success) throw new BadWebhook('not an SES notification');
    const type = m.data.notificationType ?? m.data.eventType;
    const out: MailEvent[] = [];
    if (type === 'Bounce' && m.data.bounce) {
      // Permanent: a hard bounce; Transient and Undetermined: soft.
      const hard = m.data.bounce.bounceType === 'Permanent';
      for (const r of m.data.bounce.bouncedRecipients) {
        const e = email.safeParse(r.emailAddress);
        if (e.success)
          out.push({
            email: e.data,
            kind: hard ? 'hard-bounce' : 'soft-bounce',
            at: when.parse(m.data.bounce.timestamp),
            detail: [m.data.bounce.bounceType, m.data.bounce.bounceSubType]
              .filter(Boolean)
              .join('/'),
          });
      }
    }
    if (type === 'Complaint' && m.data.complaint) {
      for (const r of m.data.complaint.complainedRecipients) {
        const e = email.safeParse(r.emailAddress);
        if (e.success)
          out.push({
            email: e.data,
            kind: 'complaint',
            at: when.parse(m.data.complaint.timestamp),
            detail: m.data.complaint.complaintFeedbackType,
          });
      }
    }
    return out;
  }
  const p = postmark.safeParse(body);
  if (!p.success) throw new BadWebhook('not a Postmark webhook');
  const { RecordType, Type, Email, BouncedAt, Description } = p.data;
  if (RecordType === 'SpamComplaint' || Type === 'SpamComplaint')
    return [{ email: Email, kind: 'complaint', at: BouncedAt, detail: Description }];
  if (RecordType !== 'Bounce' || !Type) return [];
  if (POSTMARK_HARD.has(Type))
    return [{ email: Email, kind: 'hard-bounce', at: BouncedAt, detail: Type }];
  if (POSTMARK_SOFT.has(Type))
    return [{ email: Email, kind: 'soft-bounce', at: BouncedAt, detail: Type }];
  return [];
}
