import {
  boolean,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/schema.ts';

/**
 * The community of practice: spaces (themed, regional, or private groups),
 * threads in spaces, posts in threads. Authors are kept on every post, also
 * anonymous ones ("A parent"), so admins can trace them; nothing that shows
 * a post to members reads the author of an anonymous one.
 */

export const SPACE_KINDS = ['themed', 'regional', 'group'] as const;
export type SpaceKind = (typeof SPACE_KINDS)[number];
/** Who may read: every approved member, or the group's members only. */
export const SPACE_VISIBILITIES = ['members', 'group'] as const;
export type SpaceVisibility = (typeof SPACE_VISIBILITIES)[number];

export const communitySpaces = pgTable(
  'community_spaces',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    nameCy: text('name_cy'),
    description: text('description').notNull().default(''),
    descriptionCy: text('description_cy'),
    kind: text('kind', { enum: SPACE_KINDS }).notNull(),
    visibility: text('visibility', { enum: SPACE_VISIBILITIES }).notNull().default('members'),
    /** An admin's choice: anyone may read (posting still needs an approved member). */
    publicRead: boolean('public_read').notNull().default(false),
    /** Parents may post as "A parent" here. */
    allowAnonymous: boolean('allow_anonymous').notNull().default(false),
    position: integer('position').notNull().default(0),
    isDemo: boolean('is_demo').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('community_spaces_slug_key').on(t.slug)],
);

export const MEMBERSHIP_STATUSES = ['member', 'requested'] as const;
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

/** Members of a group (and anyone's request to join one), and each space's own moderators. */
export const spaceMembers = pgTable(
  'space_members',
  {
    spaceId: uuid('space_id')
      .notNull()
      .references(() => communitySpaces.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['member', 'moderator'] })
      .notNull()
      .default('member'),
    status: text('status', { enum: MEMBERSHIP_STATUSES }).notNull().default('member'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.spaceId, t.userId] }),
    index('space_members_user_idx').on(t.userId),
  ],
);

export const threads = pgTable(
  'threads',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    spaceId: uuid('space_id')
      .notNull()
      .references(() => communitySpaces.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    anonymous: boolean('anonymous').notNull().default(false),
    pinned: boolean('pinned').notNull().default(false),
    locked: boolean('locked').notNull().default(false),
    hidden: boolean('hidden').notNull().default(false),
    /** Visible posts in the thread, the first included. */
    postCount: integer('post_count').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastPostAt: timestamp('last_post_at', { withTimezone: true }).notNull().defaultNow(),
    isDemo: boolean('is_demo').notNull().default(false),
  },
  // Read backwards for members' "pinned first, then latest activity" (hidden = false, every
  // other column descending); deep pages and the count are then scans of this index alone.
  (t) => [index('threads_space_idx').on(t.spaceId, t.hidden, t.pinned, t.lastPostAt, t.id)],
);

export const POST_STATUSES = ['visible', 'pending', 'hidden', 'deleted'] as const;
export type PostStatus = (typeof POST_STATUSES)[number];

export const posts = pgTable(
  'posts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    threadId: uuid('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    /** Its place in the thread (1 is the opening post), for pages and links. */
    number: integer('number').notNull(),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    anonymous: boolean('anonymous').notNull().default(false),
    /** Markdown as written, and the sanitised HTML made from it when saved. */
    body: text('body').notNull(),
    bodyHtml: text('body_html').notNull(),
    status: text('status', { enum: POST_STATUSES }).notNull().default('visible'),
    likeCount: integer('like_count').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    editedAt: timestamp('edited_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('posts_thread_number_key').on(t.threadId, t.number),
    index('posts_author_idx').on(t.authorId),
    index('posts_status_idx').on(t.status),
  ],
);

/** Earlier versions of an edited post, for moderators. */
export const postRevisions = pgTable(
  'post_revisions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    body: text('body').notNull(),
    editedBy: uuid('edited_by').references(() => users.id, { onDelete: 'set null' }),
    editedAt: timestamp('edited_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('post_revisions_post_idx').on(t.postId)],
);

export const postLikes = pgTable(
  'post_likes',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.postId, t.userId] })],
);

export const postReports = pgTable(
  'post_reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    reporterId: uuid('reporter_id').references(() => users.id, { onDelete: 'set null' }),
    reason: text('reason').notNull(),
    status: text('status', { enum: ['open', 'resolved'] })
      .notNull()
      .default('open'),
    outcome: text('outcome'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    resolvedBy: uuid('resolved_by').references(() => users.id, { onDelete: 'set null' }),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
  },
  (t) => [index('post_reports_open_idx').on(t.status, t.createdAt)],
);

/** When a member last read a thread, for "new since your last visit". */
export const threadReads = pgTable(
  'thread_reads',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    threadId: uuid('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    lastReadAt: timestamp('last_read_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.threadId] })],
);

/**
 * Notifications (#6): what a member is told about, kept for the notifications
 * page and for email (at once or in the daily digest). `actor_label` is the
 * writer's display name, or NULL for an anonymous post ("A parent"): the
 * author of an anonymous post is never stored here.
 */
export const NOTIFICATION_KINDS = [
  'mention',
  'reply',
  'followed',
  'new_thread',
  'moderation',
  // A post was reported: for the site's moderators only.
  'report',
  // A post is held for a moderator's approval (a new member's, or one the word list caught): moderators only.
  'held',
  // Elsewhere on the site (`elsewhere`): a comment on something one wrote, a reply to one's comment.
  'comment',
  'comment_reply',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export const EMAIL_CHOICES = ['immediately', 'daily', 'never'] as const;
export type EmailChoice = (typeof EMAIL_CHOICES)[number];
export const FOLLOW_MODES = ['follow', 'mute'] as const;
export type FollowMode = (typeof FOLLOW_MODES)[number];

export const communityNotifications = pgTable(
  'community_notifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: NOTIFICATION_KINDS }).notNull(),
    spaceId: uuid('space_id').references(() => communitySpaces.id, { onDelete: 'cascade' }),
    threadId: uuid('thread_id').references(() => threads.id, { onDelete: 'cascade' }),
    postId: uuid('post_id').references(() => posts.id, { onDelete: 'cascade' }),
    /** Elsewhere on the site (no space, thread or post): what it is about, and its path here. */
    title: text('title'),
    link: text('link'),
    /** The writer's display name; NULL for an anonymous post (or a moderator's decision). */
    actorLabel: text('actor_label'),
    /** For moderation decisions: hide or restore, and the reason given. */
    /** approve: a held post (a new member's) let through; restore: a hidden post shown again. */
    action: text('action', { enum: ['hide', 'restore', 'warn', 'approve'] }),
    reason: text('reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    readAt: timestamp('read_at', { withTimezone: true }),
    emailedAt: timestamp('emailed_at', { withTimezone: true }),
    digestedAt: timestamp('digested_at', { withTimezone: true }),
  },
  (t) => [
    index('community_notifications_user_idx').on(t.userId, t.createdAt),
    index('community_notifications_digest_idx').on(t.createdAt),
  ],
);

/** A member following or muting a thread. */
export const threadFollows = pgTable(
  'thread_follows',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    threadId: uuid('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    mode: text('mode', { enum: FOLLOW_MODES }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.threadId] }),
    index('thread_follows_thread_idx').on(t.threadId),
  ],
);

/** A member following (new threads) or muting a space. */
export const spaceFollows = pgTable(
  'space_follows',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    spaceId: uuid('space_id')
      .notNull()
      .references(() => communitySpaces.id, { onDelete: 'cascade' }),
    mode: text('mode', { enum: FOLLOW_MODES }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.spaceId] }),
    index('space_follows_space_idx').on(t.spaceId),
  ],
);

/** How a member wants to hear by email: at once (the default), a daily digest, or never; and kinds turned off. */
export const notificationPrefs = pgTable('notification_prefs', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  email: text('email', { enum: EMAIL_CHOICES }).notNull().default('immediately'),
  /** Kinds of notification not to email (they still appear on the notifications page). */
  emailOff: text('email_off').array().notNull().default([]),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Files attached to a post (#6): images (JPEG, PNG, GIF, WebP) and PDFs,
 * stored under `community/<postId>/<id>.<ext>`. The type is decided from the
 * bytes when uploaded; the file name is the uploader's, cleaned. An image
 * carries its text alternative (required). Nothing here names the uploader:
 * the post does, and an anonymous post's author is never shown.
 */
export const postAttachments = pgTable(
  'post_attachments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    storageKey: text('storage_key').notNull(),
    filename: text('filename').notNull(),
    mime: text('mime').notNull(),
    size: integer('size').notNull(),
    /** The text alternative of an image (required for images; NULL for a PDF). */
    alt: text('alt'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('post_attachments_post_idx').on(t.postId)],
);
