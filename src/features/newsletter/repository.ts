import { and, asc, count, desc, eq, gte, ilike, inArray, lt, ne, or, sql } from 'drizzle-orm';
import { claimantGone, type Db, type Tx } from '../../db/client.ts';
import {
  type ConsentEvent,
  type DeliveryState,
  mailEvents,
  mailSuppressions,
  newsletterConsent,
  newsletterDeliveries,
  newsletterIssueItems,
  newsletterIssues,
  newsletterSubscribers,
  type SubscriberState,
  type SuppressionReason,
} from './schema.ts';

/**
 * All SQL of the newsletter, and only SQL: the rules are the service's. Built
 * with `in(tx)` the same queries run inside the service's unit of work.
 */

export type SubscriberRow = typeof newsletterSubscribers.$inferSelect;
export type NewSubscriber = typeof newsletterSubscribers.$inferInsert;
export type ConsentRow = typeof newsletterConsent.$inferSelect;
export type IssueRow = typeof newsletterIssues.$inferSelect;
export type NewIssue = typeof newsletterIssues.$inferInsert;
export type IssueItemRow = typeof newsletterIssueItems.$inferSelect;
export type SuppressionRow = typeof mailSuppressions.$inferSelect;

export interface NewConsent {
  subscriberId: string;
  event: ConsentEvent;
  form: string;
  wording: string;
  locale: string;
  ipHash: string | null;
  detail?: Record<string, unknown>;
  at?: Date;
}

export function createNewsletterRepository(db: Db) {
  return { ...queries(db), in: (tx: Tx) => queries(tx) };
}

export type NewsletterRepository = ReturnType<typeof createNewsletterRepository>;

function queries(db: Db) {
  return {
    // Subscribers
    async subscriberByEmail(email: string, lock = false): Promise<SubscriberRow | undefined> {
      const q = db
        .select()
        .from(newsletterSubscribers)
        .where(eq(newsletterSubscribers.email, email));
      const [row] = lock ? await q.for('update') : await q;
      return row;
    },
    async subscriberById(id: string, lock = false): Promise<SubscriberRow | undefined> {
      const q = db.select().from(newsletterSubscribers).where(eq(newsletterSubscribers.id, id));
      const [row] = lock ? await q.for('update') : await q;
      return row;
    },
    async subscribersByIds(ids: string[]): Promise<Map<string, SubscriberRow>> {
      if (!ids.length) return new Map();
      const rows = await db
        .select()
        .from(newsletterSubscribers)
        .where(inArray(newsletterSubscribers.id, ids));
      return new Map(rows.map((r) => [r.id, r]));
    },
    async subscriberByUser(userId: string): Promise<SubscriberRow | undefined> {
      const [row] = await db
        .select()
        .from(newsletterSubscribers)
        .where(eq(newsletterSubscribers.userId, userId));
      return row;
    },
    async subscriberByConfirmHash(hash: string): Promise<SubscriberRow | undefined> {
      const [row] = await db
        .select()
        .from(newsletterSubscribers)
        .where(eq(newsletterSubscribers.confirmTokenHash, hash));
      return row;
    },
    async insertSubscriber(values: NewSubscriber): Promise<SubscriberRow> {
      const [row] = await db.insert(newsletterSubscribers).values(values).returning();
      return row!;
    },
    async updateSubscriber(id: string, set: Partial<NewSubscriber>): Promise<SubscriberRow> {
      const [row] = await db
        .update(newsletterSubscribers)
        .set({ ...set, updatedAt: new Date() })
        .where(eq(newsletterSubscribers.id, id))
        .returning();
      return row!;
    },
    /** Lets this transaction delete consent rows (an erasure); the log refuses otherwise. */
    async allowErasure(): Promise<void> {
      await db.execute(sql`SELECT set_config('newsletter.erasing', 'on', true)`);
    },
    async deleteSubscriber(id: string): Promise<void> {
      await db.delete(newsletterSubscribers).where(eq(newsletterSubscribers.id, id));
    },
    async deletePendingBefore(before: Date): Promise<number> {
      const rows = await db
        .delete(newsletterSubscribers)
        .where(
          and(
            eq(newsletterSubscribers.state, 'pending'),
            lt(newsletterSubscribers.askedAt, before),
          ),
        )
        .returning({ id: newsletterSubscribers.id });
      return rows.length;
    },
    async searchSubscribers(f: {
      q?: string | undefined;
      state?: SubscriberState | undefined;
      limit: number;
      offset: number;
    }): Promise<{ rows: SubscriberRow[]; total: number }> {
      const where = and(
        f.q
          ? or(
              ilike(newsletterSubscribers.email, `%${escapeLike(f.q)}%`),
              ilike(newsletterSubscribers.name, `%${escapeLike(f.q)}%`),
            )
          : undefined,
        f.state ? eq(newsletterSubscribers.state, f.state) : undefined,
      );
      const [rows, [total]] = await Promise.all([
        db
          .select()
          .from(newsletterSubscribers)
          .where(where)
          .orderBy(desc(newsletterSubscribers.createdAt), asc(newsletterSubscribers.email))
          .limit(f.limit)
          .offset(f.offset),
        db.select({ n: count() }).from(newsletterSubscribers).where(where),
      ]);
      return { rows, total: Number(total?.n ?? 0) };
    },
    async stateCounts(): Promise<Record<string, number>> {
      const rows = await db
        .select({ state: newsletterSubscribers.state, n: count() })
        .from(newsletterSubscribers)
        .groupBy(newsletterSubscribers.state);
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
    async allSubscribers(): Promise<SubscriberRow[]> {
      return db.select().from(newsletterSubscribers).orderBy(asc(newsletterSubscribers.email));
    },
    async existingEmails(emails: string[]): Promise<Set<string>> {
      if (!emails.length) return new Set();
      const rows = await db
        .select({ email: newsletterSubscribers.email })
        .from(newsletterSubscribers)
        .where(
          inArray(
            sql`lower(${newsletterSubscribers.email}::text)`,
            emails.map((e) => e.toLowerCase()),
          ),
        );
      return new Set(rows.map((r) => r.email.toLowerCase()));
    },

    // The consent log
    async addConsent(entries: NewConsent[]): Promise<void> {
      if (!entries.length) return;
      await db.insert(newsletterConsent).values(
        entries.map((e) => ({
          subscriberId: e.subscriberId,
          event: e.event,
          form: e.form,
          wording: e.wording,
          locale: e.locale,
          ipHash: e.ipHash,
          detail: e.detail ?? {},
          ...(e.at ? { at: e.at } : {}),
        })),
      );
    },
    async consentFor(subscriberId: string): Promise<ConsentRow[]> {
      return db
        .select()
        .from(newsletterConsent)
        .where(eq(newsletterConsent.subscriberId, subscriberId))
        .orderBy(asc(newsletterConsent.id));
    },

    // Suppression, bounces and complaints
    async isSuppressed(email: string): Promise<boolean> {
      const [row] = await db
        .select({ email: mailSuppressions.email })
        .from(mailSuppressions)
        .where(eq(mailSuppressions.email, email));
      return Boolean(row);
    },
    async suppression(email: string): Promise<SuppressionRow | undefined> {
      const [row] = await db
        .select()
        .from(mailSuppressions)
        .where(eq(mailSuppressions.email, email));
      return row;
    },
    /** True when the address was not suppressed before. */
    async suppress(
      email: string,
      reason: SuppressionReason,
      source: string,
      detail: string | null,
    ): Promise<boolean> {
      const rows = await db
        .insert(mailSuppressions)
        .values({ email, reason, source, detail })
        .onConflictDoNothing()
        .returning({ email: mailSuppressions.email });
      return rows.length > 0;
    },
    async unsuppress(email: string): Promise<boolean> {
      const rows = await db
        .delete(mailSuppressions)
        .where(eq(mailSuppressions.email, email))
        .returning({ email: mailSuppressions.email });
      return rows.length > 0;
    },
    async suppressions(limit: number): Promise<SuppressionRow[]> {
      return db
        .select()
        .from(mailSuppressions)
        .orderBy(desc(mailSuppressions.createdAt))
        .limit(limit);
    },
    async addMailEvent(e: {
      email: string;
      kind: 'hard-bounce' | 'soft-bounce' | 'complaint';
      provider: string;
      at: Date;
      detail: string | null;
    }): Promise<void> {
      await db.insert(mailEvents).values(e);
    },
    async softBouncesSince(email: string, since: Date): Promise<number> {
      const [row] = await db
        .select({ n: count() })
        .from(mailEvents)
        .where(
          and(
            eq(mailEvents.email, email),
            eq(mailEvents.kind, 'soft-bounce'),
            gte(mailEvents.at, since),
          ),
        );
      return Number(row?.n ?? 0);
    },
    async mailEventsFor(email: string) {
      return db
        .select()
        .from(mailEvents)
        .where(eq(mailEvents.email, email))
        .orderBy(asc(mailEvents.id));
    },

    // Issues
    async insertIssue(values: NewIssue): Promise<IssueRow> {
      const [row] = await db.insert(newsletterIssues).values(values).returning();
      return row!;
    },
    async updateIssue(id: string, set: Partial<NewIssue>): Promise<IssueRow | undefined> {
      const [row] = await db
        .update(newsletterIssues)
        .set({ ...set, updatedAt: new Date() })
        .where(eq(newsletterIssues.id, id))
        .returning();
      return row;
    },
    async issueById(id: string, lock = false): Promise<IssueRow | undefined> {
      const q = db.select().from(newsletterIssues).where(eq(newsletterIssues.id, id));
      const [row] = lock ? await q.for('update') : await q;
      return row;
    },
    async deleteIssue(id: string): Promise<void> {
      await db.delete(newsletterIssues).where(eq(newsletterIssues.id, id));
    },
    async listIssues(limit: number): Promise<IssueRow[]> {
      return db
        .select()
        .from(newsletterIssues)
        .orderBy(desc(newsletterIssues.createdAt))
        .limit(limit);
    },
    async archive(limit: number, offset: number): Promise<{ rows: IssueRow[]; total: number }> {
      const where = eq(newsletterIssues.state, 'sent');
      const [rows, [total]] = await Promise.all([
        db
          .select()
          .from(newsletterIssues)
          .where(where)
          .orderBy(desc(newsletterIssues.sentAt))
          .limit(limit)
          .offset(offset),
        db.select({ n: count() }).from(newsletterIssues).where(where),
      ]);
      return { rows, total: Number(total?.n ?? 0) };
    },
    async insertItems(
      issueId: string,
      items: Omit<typeof newsletterIssueItems.$inferInsert, 'issueId'>[],
    ): Promise<void> {
      if (!items.length) return;
      await db.insert(newsletterIssueItems).values(items.map((i) => ({ ...i, issueId })));
    },
    async itemsFor(issueId: string): Promise<IssueItemRow[]> {
      return db
        .select()
        .from(newsletterIssueItems)
        .where(eq(newsletterIssueItems.issueId, issueId))
        .orderBy(asc(newsletterIssueItems.topic), desc(newsletterIssueItems.publishedAt));
    },
    /**
     * The end of the period covered by the newest digest on its way to subscribers (scheduled,
     * sending or sent). A draft does not count: until it is sent its items have reached nobody.
     */
    async lastSentDigestUntil(): Promise<Date | undefined> {
      const [row] = await db
        .select({ until: newsletterIssues.coversUntil })
        .from(newsletterIssues)
        .where(and(eq(newsletterIssues.kind, 'digest'), ne(newsletterIssues.state, 'draft')))
        .orderBy(desc(newsletterIssues.coversUntil))
        .limit(1);
      return row?.until ?? undefined;
    },
    /** Whether a digest (a draft too) covers up to `at` or later: one was made since then. */
    async digestMadeSince(at: Date): Promise<boolean> {
      const [row] = await db
        .select({ id: newsletterIssues.id })
        .from(newsletterIssues)
        .where(and(eq(newsletterIssues.kind, 'digest'), gte(newsletterIssues.coversUntil, at)))
        .limit(1);
      return Boolean(row);
    },
    /** Delete the digests still in draft (a new one replaces them); what they were, newest first. */
    async deleteDraftDigests(): Promise<{ id: string; body: string; createdAt: Date }[]> {
      const rows = await db
        .delete(newsletterIssues)
        .where(and(eq(newsletterIssues.kind, 'digest'), eq(newsletterIssues.state, 'draft')))
        .returning({
          id: newsletterIssues.id,
          body: newsletterIssues.body,
          createdAt: newsletterIssues.createdAt,
        });
      return rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    },
    async dueScheduled(now: Date): Promise<IssueRow[]> {
      return db
        .select()
        .from(newsletterIssues)
        .where(and(eq(newsletterIssues.state, 'scheduled'), lt(newsletterIssues.scheduledAt, now)));
    },

    // Deliveries
    /**
     * One row per recipient: confirmed subscribers, not suppressed; an issue
     * goes to those who take every issue, in its language, with a topic in
     * common; a digest to everyone (each gets the items of their topics).
     */
    async createDeliveries(issue: IssueRow): Promise<number> {
      const rows = await db.execute<{ n: number }>(sql`
        WITH inserted AS (
          INSERT INTO newsletter_deliveries (issue_id, subscriber_id)
          SELECT ${issue.id}::uuid, s.id FROM newsletter_subscribers s
          WHERE s.state = 'subscribed'
            AND NOT EXISTS (SELECT 1 FROM mail_suppressions m WHERE m.email = s.email)
            AND (${issue.kind} = 'digest'
                 OR (s.frequency = 'each' AND s.locale = ${issue.locale}
                     AND s.topics && string_to_array(${issue.topics.join(',')}, ',')))
          ON CONFLICT DO NOTHING
          RETURNING 1)
        SELECT count(*)::int AS n FROM inserted`);
      return Number(rowsOf<{ n: number }>(rows)[0]?.n ?? 0);
    },
    /** Every recipient claimed and not yet marked, back to be sent (see the service's releaseClaims). */
    async releaseClaims(): Promise<number> {
      const rows = await db.execute<{ subscriber_id: string }>(sql`
        UPDATE newsletter_deliveries SET state = 'pending', claimed_at = NULL
        WHERE state = 'sending' RETURNING subscriber_id`);
      return rowsOf<{ subscriber_id: string }>(rows).length;
    },
    /**
     * Claim up to `limit` recipients still to send for `claimant` (or claimed
     * by a worker that died: longer ago than the lease, or by a claimant whose
     * process is gone), skipping rows another worker holds.
     */
    async claimDeliveries(
      issueId: string,
      limit: number,
      leaseSeconds: number,
      claimant: number | null = null,
    ): Promise<{ subscriberId: string; attempts: number }[]> {
      const rows = await db.execute<{ subscriber_id: string; attempts: number }>(sql`
        UPDATE newsletter_deliveries d SET state = 'sending', claimed_at = now(),
               claimed_by = ${claimant}::int, attempts = d.attempts + 1
        WHERE d.issue_id = ${issueId} AND d.subscriber_id IN (
          SELECT subscriber_id FROM newsletter_deliveries
          WHERE issue_id = ${issueId}
            AND (state = 'pending'
                 OR (state = 'sending' AND (claimed_at < now() - ${leaseSeconds} * interval '1 second'
                                            OR ${sql.raw(claimantGone('claimed_by'))})))
          ORDER BY subscriber_id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING d.subscriber_id, d.attempts`);
      return rowsOf<{ subscriber_id: string; attempts: number }>(rows).map((r) => ({
        subscriberId: r.subscriber_id,
        attempts: Number(r.attempts),
      }));
    },
    async markDelivery(
      issueId: string,
      subscriberId: string,
      state: DeliveryState,
      error?: string,
    ): Promise<void> {
      await db
        .update(newsletterDeliveries)
        .set({
          state,
          error: error ?? null,
          claimedAt: null,
          ...(state === 'sent' ? { sentAt: new Date() } : {}),
        })
        .where(
          and(
            eq(newsletterDeliveries.issueId, issueId),
            eq(newsletterDeliveries.subscriberId, subscriberId),
          ),
        );
    },
    async deliveryCounts(issueIds: string[]): Promise<Map<string, Record<string, number>>> {
      const out = new Map<string, Record<string, number>>();
      if (!issueIds.length) return out;
      const rows = await db
        .select({
          issueId: newsletterDeliveries.issueId,
          state: newsletterDeliveries.state,
          n: count(),
        })
        .from(newsletterDeliveries)
        .where(inArray(newsletterDeliveries.issueId, issueIds))
        .groupBy(newsletterDeliveries.issueId, newsletterDeliveries.state);
      for (const r of rows) {
        const c = out.get(r.issueId) ?? {};
        c[r.state] = Number(r.n);
        out.set(r.issueId, c);
      }
      return out;
    },
    async deliveriesOf(subscriberId: string) {
      return db
        .select({
          issueId: newsletterDeliveries.issueId,
          state: newsletterDeliveries.state,
          sentAt: newsletterDeliveries.sentAt,
          subject: newsletterIssues.subject,
        })
        .from(newsletterDeliveries)
        .innerJoin(newsletterIssues, eq(newsletterIssues.id, newsletterDeliveries.issueId))
        .where(eq(newsletterDeliveries.subscriberId, subscriberId));
    },
  };
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Rows of db.execute on either driver (both give `{ rows }`). */
function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
