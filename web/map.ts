/*
 * The track on a Leaflet map: a line through the points and a marker per point, coloured and sized by speed. A
 * point is a minute, or the mean of a run of minutes when the server merged them: the page asks for about one
 * point per pixel (zoom.ts), so every point is drawn; the canvas renderer keeps thousands of markers cheap.
 */
import * as L from 'leaflet';
import { formatCount, formatCoordinate, formatMinute, formatNumber } from './format.js';
import { GraticuleLabels, GraticuleLayer } from './graticule.js';
import { NO_SPEED, SPEED_CLASSES, speedClass } from './speed.js';
import { MINUTE_MS, reported, unwrapLongitudes, type Track } from './track.js';

export interface MapConfig {
  tileUrl: string | null;
  tileAttribution: string | null;
}

export interface MapStats {
  markers: number;
  lineVertices: number;
  /** [[south, west], [north, east]] of what is drawn, west/east unwrapped; null when nothing is. */
  bounds: [[number, number], [number, number]] | null;
}

/** The text of a point's tooltip; the same words serve screen readers through the marker's title. */
export function pointDescription(track: Track, i: number): string[] {
  const speed = reported(track.speed[i]);
  const minutes = track.minutes[i]!;
  const start = formatMinute(track.startMs[i]!);
  // A merged point says which minutes it stands for, and that its values are their means.
  const merged = minutes > 1;
  const label = (name: string) => (merged ? `Mean ${name.toLowerCase()}` : name);
  return [
    merged
      ? `${start} – ${formatMinute(track.endMs[i]! - MINUTE_MS)} UTC, ${formatCount(minutes)} minutes`
      : `${start} UTC`,
    `${label('Speed')} ${formatNumber(speed, 'm/s')} (${speedClass(speed).label})`,
    `${label('Accuracy')} ${formatNumber(reported(track.accuracy[i]), 'm', 0)} · ` +
      `${formatCount(track.samples[i]!)} sample(s)`,
    formatCoordinate(track.lat[i]!, track.long[i]!),
  ];
}

function tooltipContent(lines: string[]): HTMLElement {
  const element = document.createElement('div');
  lines.forEach((line, i) => {
    const row = document.createElement(i === 0 ? 'strong' : 'div');
    row.textContent = line;
    element.append(row);
  });
  return element;
}

function legend(): L.Control {
  const control = new L.Control({ position: 'bottomright' });
  control.onAdd = () => {
    const element = L.DomUtil.create('div', 'legend');
    const title = document.createElement('strong');
    title.textContent = 'Speed (colour and size)';
    element.append(title);
    for (const c of [...SPEED_CLASSES, NO_SPEED]) {
      const row = document.createElement('div');
      const swatch = document.createElement('span');
      swatch.className = c === NO_SPEED ? 'swatch swatch-none' : 'swatch';
      swatch.style.background = c === NO_SPEED ? '#ffffff' : c.color;
      swatch.style.width = swatch.style.height = `${c.radius * 2}px`;
      row.append(swatch, document.createTextNode(c.label));
      element.append(row);
    }
    return element;
  };
  return control;
}

export class TrackMap {
  readonly #map: L.Map;
  readonly #line = L.polyline([], { color: '#334155', weight: 2, opacity: 0.65, interactive: false });
  readonly #markers = L.layerGroup();
  readonly #highlight = L.circleMarker([0, 0], {
    radius: 9,
    color: '#0f172a',
    weight: 3,
    fillColor: '#ffffff',
    fillOpacity: 0.6,
    interactive: false,
  });
  #track: Track | null = null;
  /** The drawn slice's first index and its unwrapped longitudes, so the highlight lands on the drawn copy. */
  #drawn: { start: number; xs: Float64Array } = { start: 0, xs: new Float64Array(0) };

  constructor(container: HTMLElement, config: MapConfig) {
    this.#map = L.map(container, {
      preferCanvas: true,
      worldCopyJump: false,
      minZoom: 1,
      attributionControl: config.tileUrl !== null,
    });
    this.#map.setView([20, 0], 2);
    if (config.tileUrl) {
      L.tileLayer(config.tileUrl, {
        maxZoom: 19,
        attribution: escapeHtml(config.tileAttribution ?? ''),
      }).addTo(this.#map);
    } else {
      container.classList.add('map-grid');
      new GraticuleLayer({ maxZoom: 22 }).addTo(this.#map);
      new GraticuleLabels(this.#map).update();
    }
    L.control.scale({ position: 'bottomleft' }).addTo(this.#map);
    legend().addTo(this.#map);
    this.#line.addTo(this.#map);
    this.#markers.addTo(this.#map);
    // One tooltip, refilled for each hovered point.
    this.#highlight.bindTooltip('', { direction: 'top', offset: [0, -8] });
  }

  /** Draws points [start, end) of `track`; `fit` moves the map to them. */
  show(track: Track, start: number, end: number, fit: boolean): MapStats {
    this.#track = track;
    this.#markers.clearLayers();
    this.#line.setLatLngs([]);
    this.#highlight.remove();
    const xs = unwrapLongitudes(track.long.subarray(start, end));
    this.#drawn = { start, xs };
    const at = (i: number): L.LatLngExpression => [track.lat[i]!, xs[i - start]!];
    const bounds = boundsOf(track.lat.subarray(start, end), xs);
    // Fitting first: layers added afterwards are projected once, at the new view, instead of twice.
    if (fit && bounds) this.#map.fitBounds(bounds, { padding: [28, 28], maxZoom: 17, animate: false });
    const indices = Array.from({ length: end - start }, (_, k) => start + k);
    this.#line.setLatLngs(indices.map(at));
    // Smaller when crowded, so thousands of markers still show the line; sizes stay in proportion to the legend.
    const scale = indices.length > 600 ? 0.65 : 1;
    for (const i of indices) this.#markers.addLayer(this.#marker(track, i, at(i), scale));
    return { markers: indices.length, lineVertices: indices.length, bounds };
  }

  clear(): void {
    this.#track = null;
    this.#line.setLatLngs([]);
    this.#markers.clearLayers();
    this.#highlight.remove();
  }

  /** Marks point `i` (hovered in a chart) with a ring and its tooltip; -1 removes the mark. */
  highlight(i: number): void {
    const track = this.#track;
    const x = this.#drawn.xs[i - this.#drawn.start];
    if (!track || i < this.#drawn.start || x === undefined) {
      this.#highlight.remove();
      return;
    }
    const latLng: L.LatLngExpression = [track.lat[i]!, x];
    this.#highlight.setLatLng(latLng).addTo(this.#map);
    this.#highlight.setTooltipContent(tooltipContent(pointDescription(track, i))).openTooltip();
  }

  /** The map's current view, for the page state. */
  view(): { zoom: number; center: [number, number] } {
    const center = this.#map.getCenter();
    return { zoom: this.#map.getZoom(), center: [center.lat, center.lng] };
  }

  #marker(track: Track, i: number, latLng: L.LatLngExpression, scale: number): L.CircleMarker {
    const c = speedClass(reported(track.speed[i]));
    const marker = L.circleMarker(latLng, {
      radius: c.radius * scale,
      color: c === NO_SPEED ? c.color : '#1e293b',
      weight: c === NO_SPEED ? 1.5 : 0.75,
      fillColor: c === NO_SPEED ? '#ffffff' : c.color,
      fillOpacity: 0.9,
    });
    // Built when first shown: thousands of markers, few tooltips ever opened.
    marker.bindTooltip(() => tooltipContent(pointDescription(track, i)), {
      direction: 'top',
      offset: [0, -4],
    });
    return marker;
  }
}

/** [[south, west], [north, east]] of the positions, or null when there are none. */
function boundsOf(lats: Float64Array, xs: Float64Array): MapStats['bounds'] {
  if (lats.length === 0) return null;
  let [south, north, west, east] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < lats.length; i++) {
    south = Math.min(south, lats[i]!);
    north = Math.max(north, lats[i]!);
    west = Math.min(west, xs[i]!);
    east = Math.max(east, xs[i]!);
  }
  return [
    [south, west],
    [north, east],
  ];
}

function escapeHtml(text: string): string {
  const element = document.createElement('span');
  element.textContent = text;
  return element.innerHTML;
}
