import type { AllowedType } from '../../platform/files.ts';

const MB = 1024 * 1024;
/** What may be uploaded to the repository (checked from the bytes by platform/files.ts). */
export const ALLOWED: AllowedType[] = [
  { ext: 'pdf', mime: 'application/pdf', label: 'PDF', maxBytes: 25 * MB, inline: true },
  {
    ext: 'pptx',
    mime: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    label: 'PowerPoint',
    maxBytes: 50 * MB,
    inline: false,
  },
  {
    ext: 'docx',
    mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    label: 'Word',
    maxBytes: 25 * MB,
    inline: false,
  },
  {
    ext: 'odp',
    mime: 'application/vnd.oasis.opendocument.presentation',
    label: 'OpenDocument presentation',
    maxBytes: 50 * MB,
    inline: false,
  },
  {
    ext: 'odt',
    mime: 'application/vnd.oasis.opendocument.text',
    label: 'OpenDocument text',
    maxBytes: 25 * MB,
    inline: false,
  },
  { ext: 'mp4', mime: 'video/mp4', label: 'MP4', maxBytes: 300 * MB, inline: true },
  { ext: 'mp3', mime: 'audio/mpeg', label: 'MP3', maxBytes: 100 * MB, inline: true },
  { ext: 'vtt', mime: 'text/vtt', label: 'WebVTT', maxBytes: 1 * MB, inline: true },
];
/** The largest upload of any kind: the multipart parser's own limit. */
export const MAX_UPLOAD_BYTES = Math.max(...ALLOWED.map((a) => a.maxBytes));
