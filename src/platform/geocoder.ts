/**
 * Postcodes to places, through a postcodes.io-compatible API (`GEOCODER_URL`).
 * Answers are cached by the caller's store (found and not-found alike), so
 * each postcode is asked for once; an unreachable or failing geocoder is
 * 'unavailable', never an exception, so pages can fall back to names.
 */

export type GeocodeResult =
  | { status: 'found'; lat: number; lng: number }
  | { status: 'notFound' }
  | { status: 'unavailable' };

export interface GeocodeCache {
  get(postcode: string): Promise<{ lat: number | null; lng: number | null } | undefined>;
  set(postcode: string, point: { lat: number; lng: number } | null): Promise<void>;
}

/** A full UK postcode, normalised ("sw1a1aa" → "SW1A 1AA"), or undefined. */
export function normalisePostcode(text: string): string | undefined {
  const compact = text.toUpperCase().replace(/\s+/g, '');
  if (!/^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$/.test(compact)) return undefined;
  return `${compact.slice(0, -3)} ${compact.slice(-3)}`;
}

/** Great-circle distance in miles (haversine, mean Earth radius). */
export function milesBetween(
  a: { lat: number; lng: number },
  b: { lat: number; lng: number },
): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 3958.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function createGeocoder(opts: { baseUrl: string; cache: GeocodeCache; timeoutMs?: number }) {
  const base = opts.baseUrl.replace(/\/+$/, '');
  // Answers already known in this process, in front of the shared cache (postcodes do not move).
  const recent = new Map<string, GeocodeResult>();
  const remember = (postcode: string, result: GeocodeResult): GeocodeResult => {
    if (recent.size >= 5_000) recent.clear();
    recent.set(postcode, result);
    return result;
  };
  return {
    async postcode(text: string): Promise<GeocodeResult> {
      const postcode = normalisePostcode(text);
      if (!postcode) return { status: 'notFound' };
      const known = recent.get(postcode);
      if (known) return known;
      const cached = await opts.cache.get(postcode);
      if (cached)
        return remember(
          postcode,
          cached.lat === null || cached.lng === null
            ? { status: 'notFound' }
            : { status: 'found', lat: cached.lat, lng: cached.lng },
        );
      if (!base) return { status: 'unavailable' };
      try {
        const res = await fetch(`${base}/postcodes/${encodeURIComponent(postcode)}`, {
          signal: AbortSignal.timeout(opts.timeoutMs ?? 2500),
          headers: { accept: 'application/json' },
        });
        if (res.status === 404) {
          await opts.cache.set(postcode, null);
          return remember(postcode, { status: 'notFound' });
        }
        if (!res.ok) return { status: 'unavailable' };
        const body = (await res.json()) as { result?: { latitude?: unknown; longitude?: unknown } };
        const lat = Number(body.result?.latitude);
        const lng = Number(body.result?.longitude);
        if (!Number.isFinite(lat) || !Number.isFinite(lng)) return { status: 'unavailable' };
        await opts.cache.set(postcode, { lat, lng });
        return remember(postcode, { status: 'found', lat, lng });
      } catch {
        return { status: 'unavailable' };
      }
    },
  };
}

export type Geocoder = ReturnType<typeof createGeocoder>;
