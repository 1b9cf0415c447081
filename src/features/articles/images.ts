/**
 * Pictures for the demo articles, drawn here (plain SVG, no text to
 * translate, nothing fetched from elsewhere), served at
 * `/articles/images/{name}` so demo articles can show a lead image and a
 * figure with its caption.
 */
export const DEMO_IMAGES: Record<string, string> = {
  'timeline.svg': `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 300" width="640" height="300"><rect width="640" height="300" fill="#f3f2f1"/><line x1="60" y1="150" x2="580" y2="150" stroke="#0b5c5a" stroke-width="6"/><g fill="#0b5c5a"><circle cx="80" cy="150" r="18"/><circle cx="230" cy="150" r="18"/><circle cx="380" cy="150" r="18"/><circle cx="560" cy="150" r="26"/></g><g fill="#d4351c"><rect x="62" y="60" width="36" height="36" rx="6"/><rect x="212" y="204" width="36" height="36" rx="6"/><rect x="362" y="60" width="36" height="36" rx="6"/></g></svg>`,
  'visits.svg': `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 360" width="640" height="360"><rect width="640" height="360" fill="#e8f1f0"/><path d="M250 40 L330 30 L360 90 L340 160 L380 230 L350 320 L230 330 L200 260 L240 200 L210 120 Z" fill="#b7d3d0" stroke="#0b5c5a" stroke-width="3"/><g fill="#d4351c"><circle cx="320" cy="85" r="10"/><circle cx="330" cy="215" r="10"/><circle cx="300" cy="160" r="10"/><circle cx="250" cy="285" r="10"/></g></svg>`,
};
