/*
 * The coordinate grid drawn when no tile server is configured: lines every `gridStep(zoom)` degrees in the tile
 * pane (so they pan with the map), and their values along the map's left and bottom edges, like a plot's axes.
 */
import * as L from 'leaflet';

const NICE_STEPS = [1, 2, 5];
const TARGET_SPACING_PX = 90;

/** Degrees between grid lines at `zoom`: a 1-2-5 step about TARGET_SPACING_PX apart, at most 30°. */
export function gridStep(zoom: number): number {
  const degreesPerPixel = 360 / (256 * 2 ** Math.round(zoom));
  const raw = degreesPerPixel * TARGET_SPACING_PX;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const nice = NICE_STEPS.find((s) => s * magnitude >= raw) ?? 10;
  return Math.min(30, nice * magnitude);
}

function digits(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/** A grid longitude as text, brought back into (-180, 180] since drawn longitudes may pass the antimeridian. */
export function longitudeLabel(long: number, step: number): string {
  const wrapped = ((((long + 180) % 360) + 360) % 360) - 180;
  const value = wrapped === -180 ? 180 : wrapped;
  const hemisphere = value === 0 || value === 180 ? '' : value < 0 ? 'W' : 'E';
  return `${Math.abs(value).toFixed(digits(step))}°${hemisphere}`;
}

export function latitudeLabel(lat: number, step: number): string {
  return `${Math.abs(lat).toFixed(digits(step))}°${lat === 0 ? '' : lat < 0 ? 'S' : 'N'}`;
}

/** Multiples of `step` in [from, to]. */
function multiples(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil(from / step); k * step <= to && out.length < 1000; k++) out.push(k * step);
  return out;
}

export class GraticuleLayer extends L.GridLayer {
  override createTile(coords: L.Coords): HTMLElement {
    const tile = document.createElement('canvas');
    const ratio = window.devicePixelRatio || 1;
    const size = this.getTileSize();
    tile.width = size.x * ratio;
    tile.height = size.y * ratio;
    const context = tile.getContext('2d');
    const map = this._map as L.Map | undefined;
    if (!context || !map) return tile;
    const origin = L.point(coords.x * size.x, coords.y * size.y);
    const nw = map.unproject(origin, coords.z);
    const se = map.unproject(origin.add(size), coords.z);
    const step = gridStep(coords.z);
    context.scale(ratio, ratio);
    context.strokeStyle = '#d5dbe3';
    context.lineWidth = 1;
    context.beginPath();
    for (const long of multiples(nw.lng, se.lng, step)) {
      const x = Math.round(map.project([0, long], coords.z).x - origin.x) + 0.5;
      context.moveTo(x, 0);
      context.lineTo(x, size.y);
    }
    for (const lat of multiples(Math.max(se.lat, -85), Math.min(nw.lat, 85), step)) {
      const y = Math.round(map.project([lat, 0], coords.z).y - origin.y) + 0.5;
      context.moveTo(0, y);
      context.lineTo(size.x, y);
    }
    context.stroke();
    return tile;
  }
}

/** The grid's values along the edges of the map, kept in place as it moves. */
export class GraticuleLabels {
  readonly #map: L.Map;
  readonly #element: HTMLElement;

  constructor(map: L.Map) {
    this.#map = map;
    this.#element = L.DomUtil.create('div', 'graticule-labels', map.getContainer());
    this.#element.setAttribute('aria-hidden', 'true'); // the map region has its own description
    map.on('move zoom resize viewreset', () => this.update());
  }

  update(): void {
    const map = this.#map;
    const bounds = map.getBounds();
    const size = map.getSize();
    const step = gridStep(map.getZoom());
    const center = map.getCenter();
    const labels: HTMLElement[] = [];
    // Longitudes along the top, latitudes down the left; none where the zoom and scale controls sit.
    for (const long of multiples(bounds.getWest(), bounds.getEast(), step)) {
      const x = map.latLngToContainerPoint([center.lat, long]).x;
      if (x > 80 && x < size.x - 40) labels.push(this.#label(longitudeLabel(long, step), 'long', x));
    }
    for (const lat of multiples(Math.max(bounds.getSouth(), -85), Math.min(bounds.getNorth(), 85), step)) {
      const y = map.latLngToContainerPoint([lat, center.lng]).y;
      if (y > 90 && y < size.y - 60) labels.push(this.#label(latitudeLabel(lat, step), 'lat', y));
    }
    this.#element.replaceChildren(...labels);
  }

  #label(text: string, axis: 'lat' | 'long', offset: number): HTMLElement {
    const label = document.createElement('span');
    label.className = `graticule-label graticule-${axis}`;
    label.textContent = text;
    // CSSOM, not a style attribute: the page's Content-Security-Policy allows no inline styles.
    label.style.transform = axis === 'long' ? `translateX(${offset}px)` : `translateY(${offset}px)`;
    return label;
  }
}
