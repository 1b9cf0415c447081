// Progressive enhancement only: every page works without this file.
import { initAll } from '/assets/govuk/govuk-frontend.min.js';

initAll();

// External videos: a link until the person chooses to play, then the
// privacy-enhanced player (nothing is loaded from the provider before that).
for (const box of document.querySelectorAll('[data-sp-embed]')) {
  const link = box.querySelector('a');
  if (!link) continue;
  link.setAttribute('role', 'button');
  link.addEventListener('click', (event) => {
    event.preventDefault();
    const frame = document.createElement('iframe');
    const src = new URL(box.getAttribute('data-sp-embed'));
    src.searchParams.set('autoplay', '1');
    frame.src = src.toString();
    frame.title = box.getAttribute('data-sp-embed-title') || link.textContent.trim();
    frame.allow = 'autoplay; fullscreen; picture-in-picture';
    frame.allowFullscreen = true;
    frame.setAttribute('referrerpolicy', 'strict-origin-when-cross-origin');
    box.replaceChildren(frame);
    frame.focus();
  });
}
