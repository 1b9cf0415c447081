// Service map: progressive enhancement only. The list of services beside the
// map is the whole page without it; the map is shown only when Leaflet, its
// styles and the points have all loaded, and is hidden again if anything fails.
//
// Contract with the templates:
//   <div class="sp-map" data-sp-map hidden
//        data-points-url="/services/map.json?…"     (a list of services)
//        data-lat="51.5" data-lng="-0.1" data-name="…" (or: one service)
//        data-tile-url="https://tile.openstreetmap.org/{z}/{x}/{y}.png" (empty: no base layer)
//        data-tile-attribution="© OpenStreetMap contributors"
//        data-label="Map of the services listed"
//        data-zoom-in-label data-zoom-out-label data-close-label   (optional, translated)
//        data-cluster-label="{count} services: zoom in">          (optional, translated)
//   </div>
// data-points-url answers { "points": [{ "name", "url", "lat", "lng", "miles"? }] }.

const LEAFLET_CSS = [
  '/assets/leaflet/leaflet.css',
  '/assets/markercluster/MarkerCluster.css',
  '/assets/markercluster/MarkerCluster.Default.css',
];
const LEAFLET_JS = '/assets/leaflet/leaflet.js';
const CLUSTER_JS = '/assets/markercluster/leaflet.markercluster.js';

// England and Wales, for a map with no points.
const DEFAULT_BOUNDS = [
  [49.9, -5.8],
  [55.9, 1.8],
];
const SINGLE_ZOOM = 14;
const MAX_ZOOM = 18;

const reducedMotion = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;

// The CSP is nonce-based: scripts we add carry the nonce of the script that loaded us.
const nonce =
  [...document.querySelectorAll('script[nonce]')].find((s) => s.src === import.meta.url)?.nonce ||
  document.querySelector('script[nonce]')?.nonce ||
  '';

function loadCss(href) {
  const existing = document.querySelector(`link[rel="stylesheet"][href="${href}"]`);
  if (existing) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href;
    link.addEventListener('load', () => resolve());
    link.addEventListener('error', () => {
      link.remove();
      reject(new Error(`could not load ${href}`));
    });
    document.head.append(link);
  });
}

const scripts = new Map();
function loadScript(src) {
  if (!scripts.has(src)) {
    scripts.set(
      src,
      new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = src;
        script.async = false;
        if (nonce) script.nonce = nonce;
        script.addEventListener('load', () => resolve());
        script.addEventListener('error', () => {
          // Let the next map on the page try again.
          scripts.delete(src);
          script.remove();
          reject(new Error(`could not load ${src}`));
        });
        document.head.append(script);
      }),
    );
  }
  return scripts.get(src);
}

/** Leaflet, then marker clustering (which needs the global L), and their styles. */
let libraries;
function loadLeaflet() {
  libraries ??= Promise.all([
    ...LEAFLET_CSS.map(loadCss),
    (async () => {
      if (!window.L) await loadScript(LEAFLET_JS);
      if (!window.L?.markerClusterGroup) await loadScript(CLUSTER_JS);
    })(),
  ]).then(() => {
    if (!window.L?.markerClusterGroup) throw new Error('Leaflet did not load');
    window.L.Icon.Default.imagePath = '/assets/leaflet/images/';
    return window.L;
  });
  // A failed load may be retried by the next map on the page.
  libraries.catch(() => {
    libraries = undefined;
  });
  return libraries;
}

function finite(value, min, max) {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= min && n <= max ? n : undefined;
}

/** Only links within this site: never javascript: or another origin. */
function sameSiteUrl(value) {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) return;
  try {
    const url = new URL(value, window.location.origin);
    return url.origin === window.location.origin ? url.pathname + url.search + url.hash : undefined;
  } catch {
    return undefined;
  }
}

function cleanPoint(p) {
  if (!p || typeof p !== 'object') return;
  const lat = finite(p.lat, -90, 90);
  const lng = finite(p.lng, -180, 180);
  const name = typeof p.name === 'string' ? p.name.trim() : '';
  if (lat === undefined || lng === undefined || !name) return;
  return {
    lat,
    lng,
    name,
    url: sameSiteUrl(p.url),
    miles: typeof p.miles === 'string' && p.miles.trim() ? p.miles.trim() : undefined,
  };
}

async function fetchPoints(url) {
  const res = await window.fetch(url, {
    headers: { accept: 'application/json' },
    credentials: 'same-origin',
    signal: window.AbortSignal?.timeout?.(20000),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  const body = await res.json();
  if (!body || !Array.isArray(body.points)) throw new Error(`${url}: no points`);
  return body.points.map(cleanPoint).filter(Boolean);
}

/** Leaflet puts attribution in with innerHTML: give it text, escaped. */
function escapeHtml(text) {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

/** A popup's content, built from text only. */
function popupContent(point) {
  const box = document.createElement('div');
  box.className = 'sp-map__popup';
  const heading = document.createElement('p');
  heading.className = 'sp-map__popup-name';
  if (point.url) {
    const link = document.createElement('a');
    link.className = 'govuk-link';
    link.href = point.url;
    link.textContent = point.name;
    heading.append(link);
  } else {
    heading.textContent = point.name;
  }
  box.append(heading);
  if (point.miles) {
    const miles = document.createElement('p');
    miles.className = 'sp-map__popup-miles';
    miles.textContent = point.miles;
    box.append(miles);
  }
  return box;
}

function markerFor(L, point) {
  const marker = L.marker([point.lat, point.lng], {
    keyboard: true,
    title: point.name,
    alt: point.name,
  });
  marker.bindPopup(() => popupContent(point), { autoPanPadding: [20, 20] });
  return marker;
}

function clusterIcon(L, label) {
  return (cluster) => {
    const count = cluster.getChildCount();
    const size = count < 10 ? 'small' : count < 100 ? 'medium' : 'large';
    const inner = document.createElement('div');
    const number = document.createElement('span');
    number.textContent = String(count);
    inner.append(number);
    const icon = L.divIcon({
      html: inner,
      className: `marker-cluster marker-cluster-${size}`,
      iconSize: L.point(40, 40),
    });
    if (label) {
      const create = icon.createIcon.bind(icon);
      icon.createIcon = (old) => {
        const div = create(old);
        div.setAttribute('aria-label', label.replace('{count}', String(count)));
        return div;
      };
    }
    return icon;
  };
}

/**
 * Keyboard use: Enter on a marker opens its popup and moves focus to the link
 * in it; closing the popup (Escape, or its close button) returns focus to the
 * marker. Tab always moves on through the page: the map never holds focus.
 */
function popupFocus(map, container) {
  const closeLabel = container.dataset.closeLabel;
  let byKeyboard = false;
  let open;
  let returnTo;
  container.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') byKeyboard = true;
    if (e.key === 'Escape' && open) {
      e.preventDefault();
      map.closePopup();
    }
  });
  container.addEventListener('pointerdown', () => {
    byKeyboard = false;
  });
  map.on('popupopen', (e) => {
    open = e.popup;
    const el = e.popup.getElement();
    const close = el?.querySelector('.leaflet-popup-close-button');
    if (close && closeLabel) close.setAttribute('aria-label', closeLabel);
    const source = document.activeElement;
    returnTo = undefined;
    const link = el?.querySelector('.sp-map__popup a');
    if (byKeyboard && link && source && container.contains(source) && !el.contains(source)) {
      returnTo = source;
      link.focus({ preventScroll: true });
    }
    byKeyboard = false;
  });
  map.on('popupclose', (e) => {
    const el = e.popup.getElement();
    const active = document.activeElement;
    if (returnTo?.isConnected && (!active || active === document.body || el?.contains(active))) {
      returnTo.focus({ preventScroll: true });
    }
    open = undefined;
    returnTo = undefined;
  });
}

async function initMap(container) {
  const pointsUrl = container.dataset.pointsUrl;
  const single = cleanPoint({
    lat: container.dataset.lat,
    lng: container.dataset.lng,
    name: container.dataset.name,
  });
  if (!pointsUrl && !single) return;

  const original = { className: container.className, tabindex: container.getAttribute('tabindex') };
  let map;
  try {
    // Load the libraries and the points together; show the map when both are here.
    const [L, points] = await Promise.all([
      loadLeaflet(),
      pointsUrl ? fetchPoints(pointsUrl) : Promise.resolve([single]),
    ]);

    container.hidden = false;
    container.setAttribute('role', 'region');
    if (container.dataset.label) container.setAttribute('aria-label', container.dataset.label);

    map = L.map(container, {
      scrollWheelZoom: false,
      keyboard: true,
      maxZoom: MAX_ZOOM,
      zoomControl: false,
      zoomAnimation: !reducedMotion,
      fadeAnimation: !reducedMotion,
      markerZoomAnimation: !reducedMotion,
    });
    L.control
      .zoom({
        zoomInTitle: container.dataset.zoomInLabel || 'Zoom in',
        zoomOutTitle: container.dataset.zoomOutLabel || 'Zoom out',
      })
      .addTo(map);

    const tileUrl = (container.dataset.tileUrl ?? '').trim();
    if (tileUrl) {
      L.tileLayer(tileUrl, {
        maxZoom: MAX_ZOOM,
        attribution: escapeHtml(container.dataset.tileAttribution ?? ''),
      }).addTo(map);
    }

    popupFocus(map, container);

    if (!pointsUrl) {
      markerFor(L, single).addTo(map);
      map.setView([single.lat, single.lng], SINGLE_ZOOM);
      return;
    }

    const group = L.markerClusterGroup({
      showCoverageOnHover: false,
      animate: !reducedMotion,
      chunkedLoading: true,
      iconCreateFunction: clusterIcon(L, container.dataset.clusterLabel),
    });
    group.addLayers(points.map((p) => markerFor(L, p)));
    map.addLayer(group);

    if (points.length === 0) {
      map.fitBounds(DEFAULT_BOUNDS);
    } else if (points.length === 1) {
      map.setView([points[0].lat, points[0].lng], SINGLE_ZOOM);
    } else {
      map.fitBounds(group.getBounds(), { padding: [30, 30], maxZoom: SINGLE_ZOOM });
    }
  } catch (error) {
    // The list is the page: without a working map, no map at all.
    try {
      map?.remove();
    } catch {
      // nothing more to undo
    }
    container.replaceChildren();
    container.className = original.className;
    if (original.tabindex === null) container.removeAttribute('tabindex');
    else container.setAttribute('tabindex', original.tabindex);
    container.removeAttribute('role');
    container.removeAttribute('aria-label');
    container.hidden = true;
    console.warn('Service map not shown:', error);
  }
}

for (const container of document.querySelectorAll('[data-sp-map]')) {
  initMap(container);
}
